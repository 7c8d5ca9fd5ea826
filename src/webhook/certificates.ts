/**
 * The webhook's certificates, kept in a Secret so that replicas and restarts share them: a CA
 * (which the API server trusts through the caBundle) and a serving certificate it signs. The
 * serving certificate is renewed from the same CA before it expires, so the caBundle stays valid.
 * With cert-manager, the Secret is cert-manager's and this only reads it.
 */
import { X509Certificate } from 'node:crypto';
import type { Logger } from '../observability/logger.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { KeyPairPem } from './pki.js';

const DAY_MS = 24 * 60 * 60 * 1000;

export interface WebhookTls extends KeyPairPem {
  caPem: string;
}

export interface CertificateOptions {
  namespace: string;
  secretName: string;
  dnsNames: string[];
  ipAddresses?: string[];
  /** Read the Secret cert-manager keeps, instead of making one. */
  certManager?: boolean;
  caValidityMs?: number;
  servingValidityMs?: number;
  /** Renew the serving certificate when less than this is left. */
  renewBeforeMs?: number;
}

interface SecretJson {
  metadata: { name: string; namespace: string; resourceVersion?: string } & Record<string, unknown>;
  type?: string;
  data?: Record<string, string>;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');
const unb64 = (text: string | undefined) => (text ? Buffer.from(text, 'base64').toString('utf8') : undefined);

export class CertificateStore {
  constructor(
    private readonly http: KubeHttp,
    private readonly options: CertificateOptions,
    private readonly log: Logger,
  ) {}

  private get path(): string {
    return `/api/v1/namespaces/${this.options.namespace}/secrets/${this.options.secretName}`;
  }

  private async read(): Promise<SecretJson | undefined> {
    try {
      return await this.http.request<SecretJson>({ method: 'GET', path: this.path });
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  private valid(pem: string | undefined, now: number): boolean {
    if (!pem) return false;
    try {
      return notAfter(pem).getTime() - now > (this.options.renewBeforeMs ?? 30 * DAY_MS);
    } catch {
      return false;
    }
  }

  /** The certificates to serve: the stored ones, renewed or made when needed. */
  async ensure(now = Date.now()): Promise<WebhookTls> {
    const secret = await this.read();
    const stored = secret?.data ?? {};
    const [caPem, caKey, certificate, privateKey] = ['ca.crt', 'ca.key', 'tls.crt', 'tls.key'].map((key) =>
      unb64(stored[key]),
    );
    if (this.options.certManager) {
      if (!caPem || !certificate || !privateKey) {
        throw new Error(
          `secret ${this.options.namespace}/${this.options.secretName} from cert-manager lacks ca.crt, tls.crt or tls.key`,
        );
      }
      return { caPem, certificate, privateKey };
    }
    if (caPem && caKey && certificate && privateKey && this.valid(certificate, now)) {
      return { caPem, certificate, privateKey };
    }
    const keepCa = caPem && caKey && this.valid(caPem, now);
    // The certificate library costs ~20 MB of memory: loaded only when certificates are made, so an
    // operator whose certificates come from cert-manager (or that serves no webhook) never loads it.
    const { CertificateAuthority } = await import('./pki.js');
    const ca = keepCa
      ? await CertificateAuthority.load({ certificate: caPem, privateKey: caKey })
      : await CertificateAuthority.create(
          'agentrunbook-webhook-ca',
          this.options.caValidityMs ?? 3650 * DAY_MS,
        );
    const serving = await ca.issue({
      commonName: this.options.dnsNames[0] ?? 'agentrunbook-webhook',
      usage: 'server',
      dnsNames: this.options.dnsNames,
      ipAddresses: this.options.ipAddresses ?? [],
      validityMs: this.options.servingValidityMs ?? 365 * DAY_MS,
    });
    const tls: WebhookTls = { caPem: ca.certificatePem, ...serving };
    const data = {
      'ca.crt': b64(tls.caPem),
      'ca.key': b64(await ca.privateKeyPem()),
      'tls.crt': b64(tls.certificate),
      'tls.key': b64(tls.privateKey),
    };
    // An existing Secret (the installation's empty placeholder, say) keeps its metadata and type.
    const body: SecretJson = secret
      ? { ...secret, data }
      : {
          metadata: { name: this.options.secretName, namespace: this.options.namespace },
          type: 'kubernetes.io/tls',
          data,
        };
    try {
      if (secret)
        await this.http.request({
          method: 'PUT',
          path: this.path,
          body: { apiVersion: 'v1', kind: 'Secret', ...body },
        });
      else {
        await this.http.request({
          method: 'POST',
          path: `/api/v1/namespaces/${this.options.namespace}/secrets`,
          body: { apiVersion: 'v1', kind: 'Secret', ...body },
        });
      }
    } catch (error) {
      // Another replica wrote the Secret first: use what it wrote.
      if (isStatus(error, 409)) return this.ensure(now);
      throw error;
    }
    this.log.info(keepCa ? 'renewed the webhook serving certificate' : 'created webhook certificates', {
      secret: `${this.options.namespace}/${this.options.secretName}`,
      notAfter: notAfter(tls.certificate).toISOString(),
    });
    return tls;
  }
}

/** When a PEM certificate stops being valid (Node's own X.509 parser). */
function notAfter(certificatePem: string): Date {
  return new X509Certificate(certificatePem).validToDate;
}
