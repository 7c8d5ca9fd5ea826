import { Type } from '@sinclair/typebox';
import { Obj, Str, StringEnum, StrList, NamedList, Num } from '../schema-kit.js';

export const METRIC_TYPES = ['counter', 'gauge', 'histogram', 'summary'] as const;
export const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

const MetricName = Str('Metric name.', { pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$', maxLength: 200 });

export const Metric = Obj('A metric the operator exports for this runbook.', {
  name: MetricName,
  type: StringEnum('Prometheus metric type.', METRIC_TYPES),
  description: Type.Optional(Str('Help text of the metric.', { maxLength: 1024 })),
  labels: Type.Optional(
    StrList(
      'Label names of the metric.',
      Str('A label name.', { pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$', maxLength: 128 }),
      16,
    ),
  ),
  buckets: Type.Optional(
    Type.Array(Num('A bucket bound.'), { description: 'histogram: bucket upper bounds.', maxItems: 64 }),
  ),
});

export const Alert = Obj('An alert raised when its condition holds.', {
  name: Str('Name of the alert.', { pattern: '^[a-z0-9]([-_a-z0-9]*[a-z0-9])?$', maxLength: 63 }),
  condition: Str('Expression over the run metrics, e.g. execution_duration > 20m.', { maxLength: 1024 }),
  severity: StringEnum('How urgent the alert is.', SEVERITIES),
  description: Type.Optional(Str('What the alert means and what to do.', { maxLength: 1024 })),
});

export const Monitoring = Obj('Metrics and alerts for this runbook.', {
  metrics: Type.Optional(NamedList('Metrics, each with a unique name.', Metric, 64)),
  alerts: Type.Optional(NamedList('Alerts, each with a unique name.', Alert, 64)),
});
