/**
 * The informers of the controller: runbooks, the Jobs and Pods the operator manages (by label),
 * templates and agents (namespaced in the watched namespace, cluster-scoped everywhere).
 */
import { AGENT_KINDS, GROUP, PLURAL, STORAGE_VERSION, TEMPLATE_KINDS } from '../api/group.js';
import { LABEL_MANAGED_BY, MANAGED_BY } from '../api/labels.js';
import type { KubeHttp } from '../kube/http.js';
import { Informer, type InformerOptions, type KubeObject } from '../kube/informer.js';
import { kubeSource } from '../kube/source.js';
import type { AgentJson, AgentRunbookJson, JobJson, PodJson, TemplateJson } from '../kube/types.js';

export interface ControllerInformers {
  runbooks: Informer<AgentRunbookJson>;
  jobs: Informer<JobJson>;
  pods: Informer<PodJson>;
  templates: Informer<TemplateJson>;
  clusterTemplates: Informer<TemplateJson>;
  agents: Informer<AgentJson>;
  clusterAgents: Informer<AgentJson>;
}

export function controllerInformers(
  http: KubeHttp,
  namespace: string | undefined,
  options: InformerOptions,
): ControllerInformers {
  const managed = `${LABEL_MANAGED_BY}=${MANAGED_BY}`;
  const scope = namespace ? { namespace } : {};
  /** An informer of one of our own kinds: in the watched namespace, or cluster-scoped. */
  const ownKind = <T extends KubeObject>(plural: string, clusterScoped: boolean) =>
    new Informer<T>(
      plural,
      kubeSource(http, {
        prefix: `/apis/${GROUP}/${STORAGE_VERSION}`,
        plural,
        ...(clusterScoped ? {} : scope),
      }),
      options,
    );
  return {
    runbooks: ownKind<AgentRunbookJson>(PLURAL, false),
    jobs: new Informer(
      'jobs',
      kubeSource(http, { prefix: '/apis/batch/v1', plural: 'jobs', labelSelector: managed, ...scope }),
      options,
    ),
    pods: new Informer(
      'pods',
      kubeSource(http, { prefix: '/api/v1', plural: 'pods', labelSelector: managed, ...scope }),
      options,
    ),
    templates: ownKind<TemplateJson>(TEMPLATE_KINDS.namespaced.plural, false),
    clusterTemplates: ownKind<TemplateJson>(TEMPLATE_KINDS.cluster.plural, true),
    agents: ownKind<AgentJson>(AGENT_KINDS.namespaced.plural, false),
    clusterAgents: ownKind<AgentJson>(AGENT_KINDS.cluster.plural, true),
  };
}
