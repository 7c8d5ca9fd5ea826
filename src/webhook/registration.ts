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
  WEBHOOK_SERVICE,
  webhookServiceReference,
} from '../api/group.js';
import { isStatus, type KubeHttp } from '../kube/http.js';

export const VALIDATING_WEBHOOK_NAME = 'agentrunbook-validation';
export const MUTATING_WEBHOOK_NAME = 'agentrunbook-approval';

/**
 * The names of what the webhook registers with: its Service and the two configurations. A Helm
 * release picks its own (fullnameOverride), so that two releases in one cluster do not collide.
 */
export interface WebhookNames {
  service: { namespace: string; name: string };
  validating: string;
  mutating: string;
}

export const DEFAULT_WEBHOOK_NAMES: WebhookNames = {
  service: WEBHOOK_SERVICE,
  validating: VALIDATING_WEBHOOK_NAME,
  mutating: MUTATING_WEBHOOK_NAME,
};
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
    name: 'validating',
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
    name: 'mutating',
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
  { kind: string; name: 'validating' | 'mutating'; collection: string; webhooks: readonly Webhook[] }
>;
type Admission = (typeof ADMISSION)[keyof typeof ADMISSION];

/** Where the API server reaches one of the webhook's paths. */
type Reach = (path: string) => Record<string, unknown>;

/** How the API server treats the webhooks: the chart lets a cluster's operators choose. */
export interface AdmissionSettings {
  /** Fail (the default) refuses a runbook while the webhook is down rather than admit it unchecked. */
  failurePolicy: unknown;
  timeoutSeconds: unknown;
  /** Which namespaces' objects are sent to the webhooks; all when absent. */
  namespaceSelector?: unknown;
}

const DEFAULT_SETTINGS: AdmissionSettings = { failurePolicy: 'Fail', timeoutSeconds: 5 };

const serviceReach =
  (names: WebhookNames): Reach =>
  (path) =>
    webhookServiceReference(path, names.service.namespace, names.service.name);

/** The ValidatingWebhookConfiguration, reaching the webhook through its Service. */
export function validatingWebhookConfiguration(
  names: WebhookNames = DEFAULT_WEBHOOK_NAMES,
  settings: AdmissionSettings = DEFAULT_SETTINGS,
): Record<string, unknown> {
  return admissionConfiguration(ADMISSION.validating, names, serviceReach(names), settings);
}

/** The MutatingWebhookConfiguration: a runbook's author, and gate decisions. */
export function mutatingWebhookConfiguration(
  names: WebhookNames = DEFAULT_WEBHOOK_NAMES,
  settings: AdmissionSettings = DEFAULT_SETTINGS,
): Record<string, unknown> {
  return admissionConfiguration(ADMISSION.mutating, names, serviceReach(names), settings);
}

function admissionConfiguration(
  admission: Admission,
  names: WebhookNames,
  reach: Reach,
  settings: AdmissionSettings = DEFAULT_SETTINGS,
) {
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: admission.kind,
    metadata: { name: names[admission.name] },
    webhooks: admission.webhooks.map((webhook) => ({
      name: webhook.name,
      clientConfig: reach(webhook.path),
      rules: webhook.rules,
      // v1 requests are converted to v2 before they reach the webhook.
      matchPolicy: 'Equivalent',
      ...(settings.namespaceSelector === undefined ? {} : { namespaceSelector: settings.namespaceSelector }),
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      failurePolicy: settings.failurePolicy,
      timeoutSeconds: settings.timeoutSeconds,
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

/** The Service the installed CRD converts through, if any. */
async function crdConversionService(
  http: KubeHttp,
): Promise<{ namespace?: string; name?: string } | undefined> {
  const crd = await http.request<{
    spec?: {
      conversion?: { webhook?: { clientConfig?: { service?: { namespace?: string; name?: string } } } };
    };
  }>({ method: 'GET', path: CRD_PATH });
  return crd.spec?.conversion?.webhook?.clientConfig?.service;
}

/**
 * In a cluster: fills in the CA bundles of the installed CRD and webhook configurations. The CRD
 * is shared by every release in the cluster: only the release whose Service it names gives it its
 * CA, so a second release does not break the first one's conversions.
 */
async function injectCaBundle(http: KubeHttp, names: WebhookNames, caBundle: string): Promise<void> {
  const service = await crdConversionService(http);
  if (service?.name === names.service.name && service.namespace === names.service.namespace) {
    await http.apply(CRD_PATH, crdConversion({ caBundle }), true);
  }
  for (const admission of Object.values(ADMISSION)) {
    const path = `${admission.collection}/${names[admission.name]}`;
    try {
      await http.request({ method: 'GET', path });
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      // Installed without the manifests' webhook configuration (CRD and RBAC only): make all of it.
      await http.apply(
        path,
        admissionConfiguration(admission, names, (webhookPath) => ({
          ...serviceReach(names)(webhookPath),
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
        metadata: { name: names[admission.name] },
        webhooks: admission.webhooks.map((webhook) => ({ name: webhook.name, clientConfig: { caBundle } })),
      },
      true,
    );
  }
}

/** Points both at `reach(path)`, replacing the URL or Service reference they had. */
async function replaceClientConfigs(http: KubeHttp, names: WebhookNames, reach: Reach): Promise<void> {
  // A merge patch, because whichever of url and service is not wanted must go.
  await http.request({
    method: 'PATCH',
    path: CRD_PATH,
    contentType: 'application/merge-patch+json',
    body: crdConversion({ url: null, service: null, ...reach('/convert') }),
  });
  for (const admission of Object.values(ADMISSION)) {
    const desired = admissionConfiguration(admission, names, reach);
    try {
      await http.request({
        method: 'PATCH',
        path: `${admission.collection}/${names[admission.name]}`,
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
export function pointWebhooksAtService(
  http: KubeHttp,
  caPem: string,
  names = DEFAULT_WEBHOOK_NAMES,
): Promise<void> {
  return replaceClientConfigs(http, names, (path) => ({
    ...serviceReach(names)(path),
    caBundle: base64(caPem),
  }));
}

export async function registerWebhooks(
  http: KubeHttp,
  caPem: string,
  url?: string,
  names = DEFAULT_WEBHOOK_NAMES,
): Promise<void> {
  if (!url) {
    await injectCaBundle(http, names, base64(caPem));
    return;
  }
  const base = url.replace(/\/$/, '');
  await replaceClientConfigs(http, names, (path) => ({ url: `${base}${path}`, caBundle: base64(caPem) }));
}
