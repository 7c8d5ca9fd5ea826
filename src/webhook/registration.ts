/**
 * Points the API server at the webhook: the CRD's conversion clientConfig and the
 * ValidatingWebhookConfiguration, each with the CA bundle that signs the serving certificate.
 */
import { CRD_NAME, GROUP, PLURAL, WEBHOOK_SERVICE } from '../api/group.js';
import { isStatus, type KubeHttp } from '../controller/kube-http.js';

export const VALIDATING_WEBHOOK_NAME = 'agentrunbook-validation';

/** Where the API server reaches the webhook: the in-cluster Service, or a URL (out of cluster). */
export function clientConfig(path: string, caPem: string, url?: string): Record<string, unknown> {
  const caBundle = Buffer.from(caPem).toString('base64');
  return url
    ? { url: `${url.replace(/\/$/, '')}${path}`, caBundle, service: null }
    : {
        service: { namespace: WEBHOOK_SERVICE.namespace, name: WEBHOOK_SERVICE.name, path, port: 443 },
        caBundle,
        url: null,
      };
}

export function validatingWebhookConfiguration(caPem: string, url?: string): Record<string, unknown> {
  const config = clientConfig('/validate', caPem, url);
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: VALIDATING_WEBHOOK_NAME },
    webhooks: [
      {
        name: `validate.${PLURAL}.${GROUP}`,
        clientConfig: Object.fromEntries(Object.entries(config).filter(([, value]) => value !== null)),
        rules: [
          {
            apiGroups: [GROUP],
            apiVersions: ['v2'],
            operations: ['CREATE', 'UPDATE'],
            resources: [PLURAL],
            scope: 'Namespaced',
          },
        ],
        // v1 requests are converted to v2 before they reach the webhook.
        matchPolicy: 'Equivalent',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        // A runbook is refused while the webhook is down rather than admitted unchecked.
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
      },
    ],
  };
}

export async function registerWebhooks(http: KubeHttp, caPem: string, url?: string): Promise<void> {
  await http.request({
    method: 'PATCH',
    path: `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`,
    contentType: 'application/merge-patch+json',
    body: {
      spec: {
        conversion: {
          strategy: 'Webhook',
          webhook: { conversionReviewVersions: ['v1'], clientConfig: clientConfig('/convert', caPem, url) },
        },
      },
    },
  });
  const desired = validatingWebhookConfiguration(caPem, url);
  const path = `/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/${VALIDATING_WEBHOOK_NAME}`;
  try {
    const existing = await http.request<{ metadata: { resourceVersion: string } }>({ method: 'GET', path });
    const metadata = {
      ...(desired.metadata as Record<string, unknown>),
      resourceVersion: existing.metadata.resourceVersion,
    };
    await http.request({ method: 'PUT', path, body: { ...desired, metadata } });
  } catch (error) {
    if (!isStatus(error, 404)) throw error;
    await http.request({
      method: 'POST',
      path: '/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations',
      body: desired,
    });
  }
}
