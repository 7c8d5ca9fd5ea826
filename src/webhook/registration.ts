/**
 * Points the API server at the webhook: the CRD's conversion clientConfig, the
 * ValidatingWebhookConfiguration and the MutatingWebhookConfiguration (gate decisions), each with
 * the CA bundle that signs the serving certificate.
 *
 * In a cluster both objects come from the chart or install.yaml, and the operator owns only their
 * caBundle fields (server-side apply), so re-applying the manifests, `helm upgrade` or an Argo CD
 * sync neither conflicts with the operator nor shows drift. Out of a cluster (`--webhook-url`) the
 * operator points them at its URL itself while it runs.
 */
import {
  AGENT_KINDS,
  CRD_NAME,
  GROUP,
  PLURAL,
  TEMPLATE_KINDS,
  webhookServiceReference,
} from '../api/group.js';
import { isStatus, type KubeHttp } from '../kube/http.js';
import { DECISION_ANNOTATION_PREFIX, GATE_ANNOTATION_PREFIX } from '../engine/spec/gates.js';

export const VALIDATING_WEBHOOK_NAME = 'agentrunbook-validation';
const MUTATING_WEBHOOK_NAME = 'agentrunbook-approval';
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;
const ADMISSION_API = '/apis/admissionregistration.k8s.io/v1';

/** The two admission webhook configurations: kind, object name, webhook name and path. */
const ADMISSION = {
  validating: {
    kind: 'ValidatingWebhookConfiguration',
    name: VALIDATING_WEBHOOK_NAME,
    webhook: `validate.${PLURAL}.${GROUP}`,
    path: '/validate',
    collection: `${ADMISSION_API}/validatingwebhookconfigurations`,
  },
  mutating: {
    kind: 'MutatingWebhookConfiguration',
    name: MUTATING_WEBHOOK_NAME,
    webhook: `approve.${PLURAL}.${GROUP}`,
    path: '/mutate',
    collection: `${ADMISSION_API}/mutatingwebhookconfigurations`,
  },
} as const;
type Admission = (typeof ADMISSION)[keyof typeof ADMISSION];

const runbookRule = (resources: string[], scope: 'Namespaced' | 'Cluster' = 'Namespaced') => ({
  apiGroups: [GROUP],
  apiVersions: ['v2'],
  operations: ['CREATE', 'UPDATE'],
  resources,
  scope,
});

/**
 * Runbooks for their rules; runbooks, templates and agents for who may decide what the operator
 * runs (run-authority.ts).
 */
const VALIDATED_RESOURCES = [
  runbookRule([PLURAL, TEMPLATE_KINDS.namespaced.plural, AGENT_KINDS.namespaced.plural]),
  runbookRule([TEMPLATE_KINDS.cluster.plural, AGENT_KINDS.cluster.plural], 'Cluster'),
];

const touchesDecisions = (object: string) =>
  `(${object} != null && has(${object}.metadata.annotations) && ${object}.metadata.annotations.exists(k, k.startsWith('${GATE_ANNOTATION_PREFIX}') || k.startsWith('${DECISION_ANNOTATION_PREFIX}')))`;
/** CEL over the admission request: the object, before or after, carries a gate decision. */
const GATE_DECISION_REQUEST = `${touchesDecisions('object')} || ${touchesDecisions('oldObject')}`;

/** The ValidatingWebhookConfiguration, reaching the webhook through `clientConfig`. */
export function validatingWebhookConfiguration(
  clientConfig: Record<string, unknown> = webhookServiceReference('/validate'),
): Record<string, unknown> {
  return admissionConfiguration(ADMISSION.validating, clientConfig);
}

/**
 * The MutatingWebhookConfiguration for gate decisions: it checks that the user may approve
 * (SubjectAccessReview) and records who decided, for which generation, in an annotation.
 */
export function mutatingWebhookConfiguration(
  clientConfig: Record<string, unknown> = webhookServiceReference('/mutate'),
): Record<string, unknown> {
  return admissionConfiguration(ADMISSION.mutating, clientConfig);
}

function admissionConfiguration(admission: Admission, clientConfig: Record<string, unknown>) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: admission.kind,
    metadata: { name: admission.name },
    webhooks: [
      {
        name: admission.webhook,
        clientConfig,
        rules:
          admission.kind === 'ValidatingWebhookConfiguration' ? VALIDATED_RESOURCES : [runbookRule([PLURAL])],
        // v1 requests are converted to v2 before they reach the webhook.
        matchPolicy: 'Equivalent',
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        // A runbook is refused while the webhook is down rather than admitted unchecked.
        failurePolicy: 'Fail',
        timeoutSeconds: 5,
        ...(admission.kind === 'MutatingWebhookConfiguration'
          ? {
              reinvocationPolicy: 'Never',
              // Only requests that touch gate decisions reach it; every other write goes on without it.
              matchConditions: [{ name: 'gate-decisions', expression: GATE_DECISION_REQUEST }],
            }
          : {}),
      },
    ],
  };
}

const base64 = (pem: string) => Buffer.from(pem).toString('base64');

function crdConversion(clientConfig: Record<string, unknown>) {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME },
    spec: { conversion: { strategy: 'Webhook', webhook: { clientConfig } } },
  };
}

/** In a cluster: fills in the CA bundles of the installed CRD and webhook configurations. */
async function injectCaBundle(http: KubeHttp, caBundle: string): Promise<void> {
  await http.apply(CRD_PATH, crdConversion({ caBundle }), true);
  for (const admission of Object.values(ADMISSION)) {
    const path = `${admission.collection}/${admission.name}`;
    try {
      await http.request({ method: 'GET', path });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      // Installed without the manifests' webhook configuration (CRD and RBAC only): make all of it.
      await http.apply(
        path,
        admissionConfiguration(admission, { ...webhookServiceReference(admission.path), caBundle }),
        true,
      );
      continue;
    }
    await http.apply(
      path,
      {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: admission.kind,
        metadata: { name: admission.name },
        webhooks: [{ name: admission.webhook, clientConfig: { caBundle } }],
      },
      true,
    );
  }
}

type Reach = (path: string) => Record<string, unknown>;

/** Points both at `reach(path)`, replacing the URL or Service reference they had. */
async function replaceClientConfigs(http: KubeHttp, reach: Reach): Promise<void> {
  // A merge patch, because whichever of url and service is not wanted must go.
  await http.request({
    method: 'PATCH',
    path: CRD_PATH,
    contentType: 'application/merge-patch+json',
    body: crdConversion({ url: null, service: null, ...reach('/convert') }),
  });
  for (const admission of Object.values(ADMISSION)) {
    const desired = admissionConfiguration(admission, reach(admission.path));
    try {
      await http.request({
        method: 'PATCH',
        path: `${admission.collection}/${admission.name}`,
        contentType: 'application/merge-patch+json',
        body: desired,
      });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      await http.request({ method: 'POST', path: admission.collection, body: desired });
    }
  }
}

/**
 * Out of a cluster (`--webhook-url`) the operator points both at its URL on start, and back at the
 * Service, as the installation has them, when it stops: re-applying the manifests then succeeds
 * (server-side apply cannot remove a url the installation never set, and url and service
 * together are refused).
 */
export function pointWebhooksAtService(http: KubeHttp, caPem: string): Promise<void> {
  return replaceClientConfigs(http, (path) => ({
    ...webhookServiceReference(path),
    caBundle: base64(caPem),
  }));
}

export async function registerWebhooks(http: KubeHttp, caPem: string, url?: string): Promise<void> {
  if (!url) {
    await injectCaBundle(http, base64(caPem));
    return;
  }
  const base = url.replace(/\/$/, '');
  await replaceClientConfigs(http, (path) => ({ url: `${base}${path}`, caBundle: base64(caPem) }));
}
