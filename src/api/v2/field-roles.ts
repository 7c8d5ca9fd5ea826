/**
 * What the fields of a runbook's spec that the operator does not act on itself are for. Every
 * other field of the schema is read by the engine, the controller or the webhook; a unit test
 * (schema-walk) fails for a field that is neither read nor listed here. Paths (spec.* for an
 * AgentRunbook, agent.spec.* for an Agent or ClusterAgent) use [] for list entries and * for map
 * entries; what a listed field holds is covered by the listing.
 */

/** Settings handed to the agent as given: the agent acts on them, the operator only passes them on. */
export const AGENT_SETTINGS: Readonly<Record<string, string>> = {
  'spec.agents.pipeline[].config.parameters':
    "the stage's agent-specific parameters (depth, sources, ...), in its parameters.json",
  'spec.agents.core.*.config':
    "a core agent's settings (cacheEnabled, cacheTTL, frameworks, ...), as the parameters of the steps that run it",
  'spec.agents.deployment.*.config':
    "a validation agent's settings (scanners, compliance, thresholds, ...) as its parameters; failOnCritical is also read by the operator",
  'spec.workflows.main.steps[].config':
    "merged over the step's agent settings and handed to it (e.g. the specification's useCache, maxAge, depth)",
  'spec.workflows.fallback.steps[].config': 'as for main steps',
  'spec.workflows.emergency.steps[].config': 'as for main steps',
  'spec.environments.*.agents.*.config': "merged over the named agent's settings for this environment",
  'agent.spec.prices':
    'prices per model, handed to the agent (in its llm settings), which works out its cost from them',
};

/** Parts of an Agent's Pod template copied into the agent Pod as written: Kubernetes acts on them. */
export const POD_FIELDS: Readonly<Record<string, string>> = {
  'agent.spec.podTemplate.tolerations': 'the Pod’s tolerations',
  'agent.spec.podTemplate.volumes': 'the Pod’s volumes (their sources checked at admission)',
  'agent.spec.podTemplate.volumeMounts': "the agent container's volume mounts",
  'agent.spec.podTemplate.securityContext.seccompProfile': 'the Pod’s seccomp profile',
};

/** Fields for people and tools: kept and shown (kubectl, the CLI, Events), never acted on. */
export const DESCRIPTIVE_FIELDS: Readonly<Record<string, string>> = {
  'spec.description': 'what the runbook does',
  'spec.tags': 'categorization',
  'spec.created': 'when the runbook was generated',
  'spec.author': 'the generating system',
  'spec.author.system': 'the generating system',
  'spec.author.version': 'the generating system',
  'spec.agents.conductor.role': "the conductor's role; the operator is the conductor",
  'spec.agents.core.*.role': "the agent's role",
  'spec.quality.gates[].description': 'shown to the approver',
  'spec.monitoring.metrics[].description': 'the help text of the exported metric',
  'spec.monitoring.alerts[].description': 'said when the alert fires',
};

/** The idea's context: read by name where an input says ${context.<field>} or a condition context.<field>. */
export const CONTEXT_FIELDS: Readonly<Record<string, string>> = {
  'spec.context.ideaId': 'the source idea; agentrunbook generate and import name runbooks after it',
  'spec.context.ideaText': "the idea's text, e.g. the specification's normalize input idea_text",
  'spec.context.oneLiner': "the idea's one-line summary",
};
