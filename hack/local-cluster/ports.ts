import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/** Ports below this are left to well-known services. */
const LOWEST = 10_000;
const ATTEMPTS = 50;

/**
 * Ports freePort gave out in this process: one is still free until its user binds it, so two
 * calls before either binds (the demo's webhook and metrics ports) could otherwise get the same.
 */
const handedOut = new Set<number>();

/**
 * A loopback TCP port that was free a moment ago, and that the kernel does not hand out for
 * outgoing connections: a port from listen(0) lies in the ephemeral range, where any client
 * socket opened before the binary binds it can take it ("address already in use").
 */
export async function freePort(): Promise<number> {
  const below = ephemeralLow();
  for (let attempt = 0; attempt < ATTEMPTS && below > LOWEST; attempt++) {
    const port = LOWEST + Math.floor(Math.random() * (below - LOWEST));
    if (handedOut.has(port)) continue;
    handedOut.add(port);
    if (await bindable(port)) return port;
  }
  return kernelChosenPort();
}

/** Whether an error (or its message) says a process could not bind its port. */
export function isAddressInUse(error: unknown): boolean {
  return error instanceof Error && /address already in use|EADDRINUSE/.test(error.message);
}

function ephemeralLow(): number {
  try {
    const [low] = readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/);
    return Number(low) || 0;
  } catch {
    return 0;
  }
}

function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.on('error', () => {
      resolve(false);
    });
    server.listen(port, '127.0.0.1', () =>
      server.close(() => {
        resolve(true);
      }),
    );
  });
}

function kernelChosenPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not determine a free port'));
      });
    });
  });
}
