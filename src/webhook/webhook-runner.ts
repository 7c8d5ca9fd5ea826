/**
 * Runs the webhook side of the operator: certificates (made, or cert-manager's), the HTTPS server,
 * the registration with the API server, and renewal before expiry.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isStatus, type KubeHttp } from '../kube/http.js';
import type { Json } from '../api/json.js';
import type { Read } from './gate-decisions.js';
import type { Logger } from '../observability/logger.js';
import type { AdmissionConfig } from './validation.js';
import type { Authorize } from './requester.js';
import { CertificateStore, type CertificateOptions, type WebhookTls } from './certificates.js';
import { pointWebhooksAtService, registerWebhooks, type WebhookNames } from './registration.js';
import type { Served } from './server.js';
import { WebhookThread } from './webhook-thread.js';

export interface WebhookOptions extends CertificateOptions {
  port: number;
  host?: string;
  /** How the API server reaches the webhook from outside the cluster; the Service otherwise. */
  url?: string;
  /** Its Service and configurations; the defaults of install.yaml when absent. */
  names?: WebhookNames;
  /** How often to check whether the certificate needs renewing. */
  renewCheckMs?: number;
  /** Told of every request answered (for metrics). */
  onServed?: (request: Served) => void;
  /** What admission reads of the operator's configuration: its policy and catalog agents. */
  admission?: AdmissionConfig;
  /**
   * How long the webhook goes on answering once the operator stops, each answer closing its
   * connection, so the API server's calls move to another replica before this one stops listening.
   */
  shutdownDelayMs?: number;
}

/** Whether RBAC lets a user do one thing (approve a gate, create Jobs): a SubjectAccessReview. */
function subjectAccessReview(http: KubeHttp): Authorize {
  return async (request) => {
    const review = await http.request<{ status?: { allowed?: boolean; reason?: string } }>({
      method: 'POST',
      path: '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: request.user,
          groups: request.groups,
          ...(request.uid ? { uid: request.uid } : {}),
          ...(request.extra ? { extra: request.extra } : {}),
          resourceAttributes: request.attributes,
        },
      },
    });
    return {
      allowed: review.status?.allowed === true,
      ...(review.status?.reason ? { reason: review.status.reason } : {}),
    };
  };
}

/** A GET with the operator's identity; a missing object is undefined. */
function readObject(http: KubeHttp): Read {
  return async (path) => {
    try {
      return await http.request<Json>({ method: 'GET', path });
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  };
}

export class WebhookRunner {
  private server: WebhookThread | undefined;
  private current: WebhookTls | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly store: CertificateStore;
  /** Resolves once the webhook has drained for shutdownDelayMs. */
  private drained: Promise<unknown> | undefined;
  port = 0;
  serving = false;

  constructor(
    private readonly http: KubeHttp,
    private readonly options: WebhookOptions,
    private readonly log: Logger,
  ) {
    this.store = new CertificateStore(http, options, log);
  }

  async start(): Promise<void> {
    this.current = await this.store.ensure();
    this.server = new WebhookThread(
      this.current,
      this.options.port,
      this.options.host,
      this.log,
      subjectAccessReview(this.http),
      readObject(this.http),
      this.options.onServed,
      this.options.admission,
    );
    this.port = await this.server.listening();
    await registerWebhooks(this.http, this.current.caPem, this.options.url, this.options.names);
    this.timer = setInterval(() => {
      this.renew().catch((error: unknown) => {
        this.log.error('webhook certificate renewal failed', { error: (error as Error).message });
      });
    }, this.options.renewCheckMs ?? 3600_000);
    this.timer.unref();
    this.serving = true;
    this.log.info('webhook serving', { port: this.port, url: this.options.url ?? '(service)' });
  }

  async renew(): Promise<void> {
    const next = await this.store.ensure();
    if (!this.current || next.certificate === this.current.certificate) return;
    this.server?.updateTls(next);
    if (next.caPem !== this.current.caPem)
      await registerWebhooks(this.http, next.caPem, this.options.url, this.options.names);
    this.current = next;
  }

  /**
   * Answers close their connections from now on; stop() closes the server shutdownDelayMs later.
   * A webhook that never started has no callers to move away: nothing to wait for.
   */
  drain(): void {
    if (this.drained) return;
    this.server?.drain();
    this.drained = this.server ? delay(this.options.shutdownDelayMs ?? 0) : Promise.resolve();
  }

  async stop(): Promise<void> {
    this.drain();
    await this.drained;
    clearInterval(this.timer);
    this.serving = false;
    await this.server?.close();
    if (this.options.url && this.current) {
      try {
        await pointWebhooksAtService(this.http, this.current.caPem, this.options.names);
      } catch (error) {
        this.log.error('could not point the webhooks back at their Service', {
          error: (error as Error).message,
        });
      }
    }
  }
}
