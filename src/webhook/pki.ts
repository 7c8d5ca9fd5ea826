/**
 * A small certificate authority (ECDSA P-256, @peculiar/x509): the webhook server's CA and serving
 * certificate, and the test control plane's certificates.
 */
// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface KeyPairPem {
  certificate: string;
  privateKey: string;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
}

export async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

function serialNumber(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

export function serialOf(certificatePem: string): string {
  return new x509.X509Certificate(certificatePem).serialNumber;
}

export class CertificateAuthority {
  private constructor(
    private readonly keys: { privateKey: CryptoKey },
    private readonly cert: x509.X509Certificate,
  ) {}

  static async create(commonName: string, validityMs = 7 * DAY_MS): Promise<CertificateAuthority> {
    const keys = await generateKeys();
    const now = Date.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serialNumber(),
      name: `CN=${commonName}`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + validityMs),
      signingAlgorithm: ALGORITHM,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    return new CertificateAuthority(keys, cert);
  }

  /** A CA kept earlier (in a Secret, say). */
  static async load(pair: KeyPairPem): Promise<CertificateAuthority> {
    const der = x509.PemConverter.decodeFirst(pair.privateKey);
    const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
    return new CertificateAuthority({ privateKey }, new x509.X509Certificate(pair.certificate));
  }

  get certificatePem(): string {
    return this.cert.toString('pem');
  }

  async privateKeyPem(): Promise<string> {
    return privateKeyPem(this.keys.privateKey);
  }

  /** Issues a leaf certificate; `organizations` become the Kubernetes groups of a client certificate. */
  async issue(options: {
    commonName: string;
    organizations?: string[];
    dnsNames?: string[];
    ipAddresses?: string[];
    usage: 'server' | 'client';
    validityMs?: number;
  }): Promise<KeyPairPem> {
    const keys = await generateKeys();
    const now = Date.now();
    const subject = [`CN=${options.commonName}`, ...(options.organizations ?? []).map((o) => `O=${o}`)].join(
      ', ',
    );
    const altNames = [
      ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
      ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ];
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serialNumber(),
      subject,
      issuer: this.cert.subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + (options.validityMs ?? 7 * DAY_MS)),
      signingAlgorithm: ALGORITHM,
      publicKey: keys.publicKey,
      signingKey: this.keys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([
          options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
        ]),
        ...(altNames.length > 0 ? [new x509.SubjectAlternativeNameExtension(altNames)] : []),
        await x509.AuthorityKeyIdentifierExtension.create(this.cert),
      ],
    });
    return { certificate: cert.toString('pem'), privateKey: await privateKeyPem(keys.privateKey) };
  }
}

/** A key pair for signing service-account tokens. */
export async function signingKeyPairPem(): Promise<{ privateKey: string; publicKey: string }> {
  const keys = await generateKeys();
  const spki = await webcrypto.subtle.exportKey('spki', keys.publicKey);
  return {
    privateKey: await privateKeyPem(keys.privateKey),
    publicKey: x509.PemConverter.encode(spki, 'PUBLIC KEY'),
  };
}
