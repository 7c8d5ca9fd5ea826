import { Type } from '@sinclair/typebox';
import { Obj, Str, StringEnum, StrList, NamedList, Num } from '../schema-kit.js';

export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary'] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

/** Labels every runbook metric carries, whether listed or not: they tell runbooks apart. */
export const IDENTITY_LABELS = ['namespace', 'runbook_name'] as const;
const RUN_LABELS = [...IDENTITY_LABELS, 'version', 'environment'] as const;
const STAGE_LABELS = [...RUN_LABELS, 'stage_name', 'agent_type', 'workflow'] as const;

/** The prefix of the names runbook metrics are exported under, as Argo prefixes its custom metrics. */
export const RUNBOOK_METRIC_PREFIX = 'agentrunbook_runbook_';

/**
 * What the operator can export for a runbook (spec.monitoring.metrics): each name with the one type
 * it has, the labels it can carry, and what it measures. Anything else is refused at admission.
 */
export const RUNBOOK_METRICS = {
  execution_duration: {
    type: 'histogram',
    labels: [...RUN_LABELS, 'phase'],
    help: 'Seconds each run of the runbook took, observed when the run finished.',
  },
  stage_duration: {
    type: 'histogram',
    labels: [...STAGE_LABELS, 'phase'],
    help: 'Seconds each stage of the runbook took, observed when the stage finished.',
  },
  stage_success_rate: {
    type: 'gauge',
    labels: STAGE_LABELS,
    help: "Succeeded attempts over finished attempts of each stage in the runbook's current run.",
  },
  success_rate: {
    type: 'gauge',
    labels: RUN_LABELS,
    help: "Succeeded attempts over finished attempts in the runbook's current run.",
  },
  error_rate: {
    type: 'gauge',
    labels: RUN_LABELS,
    help: "Failed attempts over finished attempts in the runbook's current run.",
  },
  retry_count: {
    type: 'counter',
    labels: [...RUN_LABELS, 'execution_id'],
    help: "Retries (attempts after each stage's first) in the runbook's current run.",
  },
  tokens_used: {
    type: 'counter',
    labels: [...RUN_LABELS, 'execution_id'],
    help: "Tokens the agents reported in the runbook's current run.",
  },
  cost_accrued: {
    type: 'counter',
    labels: [...RUN_LABELS, 'execution_id'],
    help: "Dollars the agents reported in the runbook's current run.",
  },
  resource_utilization: {
    type: 'counter',
    labels: [...RUN_LABELS, 'execution_id', 'resource_type'],
    help: "What the runbook's current run used, by resource_type: tokens, cost_usd, cpu_seconds.",
  },
} as const satisfies Record<
  string,
  { type: (typeof METRIC_TYPES)[number]; labels: readonly string[]; help: string }
>;

export type RunbookMetricName = keyof typeof RUNBOOK_METRICS;
export const RUNBOOK_METRIC_NAMES = Object.keys(RUNBOOK_METRICS) as RunbookMetricName[];
const ALL_LABELS = [...new Set(Object.values(RUNBOOK_METRICS).flatMap((metric) => metric.labels))];

/** Bucket bounds in seconds for histograms that do not set theirs (one second to six hours). */
export const DEFAULT_DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 21600];

const metricTable = RUNBOOK_METRIC_NAMES.map((name) => {
  const metric = RUNBOOK_METRICS[name];
  return `${name} (${metric.type}; labels ${metric.labels.join(', ')}): ${metric.help}`;
}).join(' ');

export const Metric = Obj(
  `A metric the operator exports for this runbook, as ${RUNBOOK_METRIC_PREFIX}<name> on its /metrics endpoint, with the labels namespace and runbook_name always and the listed ones besides. The series go when the runbook is deleted; each metric has at most 10,000 series over all runbooks. The metrics it can produce: ${metricTable}`,
  {
    name: StringEnum('Which metric: one the operator can produce (see above).', RUNBOOK_METRIC_NAMES),
    type: StringEnum(
      'Prometheus metric type; it must be the type of the named metric (see above).',
      METRIC_TYPES,
    ),
    description: Type.Optional(
      Str("For readers of the runbook; the exported help text is the operator's description of the metric.", {
        maxLength: 1024,
      }),
    ),
    labels: Type.Optional(
      StrList(
        'Label names, each one the named metric can carry (see above); namespace and runbook_name are always set.',
        StringEnum('A label name.', ALL_LABELS),
        16,
      ),
    ),
    buckets: Type.Optional(
      Type.Array(Num('A bucket upper bound in seconds.', { minimum: 0 }), {
        description: `histogram: bucket upper bounds in seconds, ascending; default ${DEFAULT_DURATION_BUCKETS.join(', ')}.`,
        maxItems: 64,
      }),
    ),
  },
);

export const Alert = Obj(
  'An alert raised when its condition holds: evaluated on every reconcile of a run (and every 30 seconds while one runs), it sets the Alerting condition and records a Warning Event when it fires and a Normal Event when it resolves.',
  {
    name: Str('Name of the alert.', { pattern: '^[a-z0-9]([-_a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
    condition: Str(
      'A CEL expression of type bool over the run\'s variables: execution_duration and cpu_time (durations: write duration("20m") or bare 20m, e.g. execution_duration > 20m); error_rate, success_rate, cost_accrued, budget (the cost limit in dollars, infinity without one) and budget_utilization (doubles); tokens_used, token_budget (0 without one), retry_count, memory_peak (bytes), failed_stages, stages (ints); fallback_triggered (bool); phase (string). Refused at admission if it does not compile to a bool over these.',
      { maxLength: 1024 },
    ),
    severity: StringEnum('How urgent the alert is.', SEVERITIES),
    description: Type.Optional(Str('What the alert means and what to do.', { maxLength: 1024 })),
  },
);

export const Monitoring = Obj('Metrics and alerts for this runbook.', {
  metrics: Type.Optional(NamedList('Metrics, each with a unique name.', Metric, 64)),
  alerts: Type.Optional(NamedList('Alerts, each with a unique name.', Alert, 64)),
});
