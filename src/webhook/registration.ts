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
  DECISION_KIND,
  GATE_POLICY_KINDS,
  GROUP,
  PLURAL,
  TEMPLATE_KINDS,
  webhookServiceReference,
} from '../api/group.js';
import { isStatus, type KubeHttp } from '../kube/http.js';

export const VALIDATING_WEBHOOK_NAME = 'agentrunbook-validation';
const MUTATING_WEBHOOK_NAME = 'agentrunbook-approval';
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${CRD_NAME}`;
const ADMISSION_API = '/apis/admissionregistration.k8s.io/v1';

const rule = (
  resources: string[],
  scope: 'Namespaced' | 'Cluster' = 'Namespaced',
  operations = ['CREATE', 'UPDATE'],
) => ({ apiGroups: [GROUP], apiVersions: ['v2'], operations, resources, scope });

interface Webhook {
  name: string;
  path: string;
  rules: ReturnType<typeof rule>[];
}

/** The two admission webhook configurations: kind, object name, and their webhooks. */
const ADMISSION = {
  validating: {
    kind: 'ValidatingWebhookConfiguration',
    name: VALIDATING_WEBHOOK_NAME,
    collection: `${ADMISSION_API}/validatingwebhookconfigurations`,
    webhooks: [
      {
        // Runbooks for their rules; runbooks, templates and agents for who may decide what the
        // operator runs (run-authority.ts); gate policies for their conditions.
        name: `validate.${PLURAL}.${GROUP}`,
        path: '/validate',
        rules: [
          rule([
            PLURAL,
            TEMPLATE_KINDS.namespaced.plural,
            AGENT_KINDS.namespaced.plural,
            GATE_POLICY_KINDS.namespaced.plural,
          ]),
          rule(
            [TEMPLATE_KINDS.cluster.plural, AGENT_KINDS.cluster.plural, GATE_POLICY_KINDS.cluster.plural],
            'Cluster',
          ),
        ],
      },
    ],
  },
  mutating: {
    kind: 'MutatingWebhookConfiguration',
    name: MUTATING_WEBHOOK_NAME,
    collection: `${ADMISSION_API}/mutatingwebhookconfigurations`,
    webhooks: [
      // A runbook's author (runbook-author.ts).
      { name: `author.${PLURAL}.${GROUP}`, path: '/mutate', rules: [rule([PLURAL])] },
      // Who decided a gate, after checking they may (gate-decisions.ts).
      {
        name: `decide.${DECISION_KIND.plural}.${GROUP}`,
        path: '/decide',
        rules: [rule([DECISION_KIND.plural], 'Namespaced', ['CREATE'])],
      },
    ],
  },
} as const satisfies Record<
  string,
  { kind: string; name: string; collection: string; webhooks: readonly Webhook[] }
>;
type Admission = (typeof ADMISSION)[keyof typeof ADMISSION];

/** Where the API server reaches one of the webhook's paths. */
type Reach = (path: string) => Record<string, unknown>;

/** The ValidatingWebhookConfiguration, reaching the webhook through `reach`. */
export function validatingWebhookConfiguration(
  reach: Reach = webhookServiceReference,
): Record<string, unknown> {
  return admissionConfiguration(ADMISSION.validating, reach);
}

/** The MutatingWebhookConfiguration: a runbook's author, and gate decisions. */
export function mutatingWebhookConfiguration(
  reach: Reach = webhookServiceReference,
): Record<string, unknown> {
  return admissionConfiguration(ADMISSION.mutating, reach);
}

function admissionConfiguration(admission: Admission, reach: Reach) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: admission.kind,
    metadata: { name: admission.name },
    webhooks: admission.webhooks.map((webhook) => ({
      name: webhook.name,
      clientConfig: reach(webhook.path),
      rules: webhook.rules,
      // v1 requests are converted to v2 before they reach the webhook.
      matchPolicy: 'Equivalent',
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      // A runbook is refused while the webhook is down rather than admitted unchecked.
      failurePolicy: 'Fail',
      timeoutSeconds: 5,
      ...(admission.kind === 'MutatingWebhookConfiguration' ? { reinvocationPolicy: 'Never' } : {}),
    })),
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
        admissionConfiguration(admission, (webhookPath) => ({
          ...webhookServiceReference(webhookPath),
          caBundle,
        })),
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
        webhooks: admission.webhooks.map((webhook) => ({ name: webhook.name, clientConfig: { caBundle } })),
      },
      true,
    );
  }
}

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
    const desired = admissionConfiguration(admission, reach);
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
