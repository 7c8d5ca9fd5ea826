/**
 * A runbook's run as `agentrunbook get` and `watch` print it (argo get and tkn pr describe are the
 * models): the run, then its stages as a tree under their workflows, then its gates.
 */
import type { StatusV2 } from '../api/v2/runbook.js';
import { formatMicros, moneyMicros } from '../api/grammar.js';
import { effectiveSpec, runSpec } from '../engine/spec/effective.js';
import type { AgentRunbookJson } from '../kube/types.js';
import { tableLines } from './table.js';
import { parseItemName } from '../engine/spec/for-each.js';

type Stage = NonNullable<StatusV2['stages']>[number];

const PHASE_ICONS: Record<string, string> = {
  Succeeded: '✔',
  Failed: '✖',
  Running: '●',
  Retrying: '↻',
  Pending: '◷',
  Skipped: '○',
};

/** A duration as kubectl prints ages: 45s, 3m12s, 2h5m. */
export function shortDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${seconds % 60 ? `${seconds % 60}s` : ''}`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h${minutes % 60 ? `${minutes % 60}m` : ''}`;
}

function between(start: string | undefined, end: string | undefined, now: Date): string {
  const from = Date.parse(start ?? '');
  if (Number.isNaN(from)) return '-';
  const to = end ? Date.parse(end) : now.getTime();
  return shortDuration(to - from);
}

const tokens = (value: number | undefined) => (value === undefined ? '-' : value.toLocaleString('en-US'));
const dollars = (value: string | undefined) => (value === undefined ? '-' : `$${value}`);

/** The one line of detail a stage shows: why it is where it is. */
function detail(stage: Stage): string {
  const text = stage.message ?? stage.reason ?? '';
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 80 ? `${oneLine.slice(0, 79)}…` : oneLine;
}

/** The ATTEMPT column: a forEach stage counts its finished items, a stage that reused a result says so. */
function attemptText(stage: Stage): string {
  if (stage.items) return `${stage.items.succeeded + stage.items.failed}/${stage.items.count} items`;
  if (stage.cache?.result === 'Hit') return 'cached';
  return stage.attempt ? String(stage.attempt) : '-';
}

function stageRow(prefix: string, stage: Stage, now: Date): string[] {
  return [
    `${prefix} ${PHASE_ICONS[stage.phase] ?? '?'} ${stage.name}`,
    stage.phase,
    attemptText(stage),
    between(stage.startTime, stage.completionTime, now),
    tokens(stage.usage?.tokens),
    dollars(stage.usage?.costUSD),
    detail(stage),
  ];
}

/** The stages under their workflows, the items a forEach stage runs now under it, and a child runbook's stages under its stage. */
function stageRows(stages: readonly Stage[], now: Date, children: readonly AgentRunbookJson[]): string[][] {
  const header = ['STAGE', 'PHASE', 'ATTEMPT', 'DURATION', 'TOKENS', 'COST', 'MESSAGE'];
  const rows: string[][] = [header];
  const items = (stage: string) => stages.filter((other) => parseItemName(other.name)?.stage === stage);
  const main = stages.filter((stage) => !parseItemName(stage.name));
  const workflows = [...new Set(main.map((stage) => stage.workflow ?? 'main'))];
  for (const workflow of workflows) {
    rows.push([workflow, '', '', '', '', '', '']);
    const members = main.filter((stage) => (stage.workflow ?? 'main') === workflow);
    members.forEach((stage, index) => {
      const last = index === members.length - 1;
      rows.push(stageRow(last ? '└─' : '├─', stage, now));
      const child = children.find((candidate) => candidate.metadata.name === stage.child);
      const nested = [...items(stage.name), ...(child?.status?.stages ?? [])];
      nested.forEach((item, at) =>
        rows.push(stageRow(`${last ? '  ' : '│ '} ${at === nested.length - 1 ? '└─' : '├─'}`, item, now)),
      );
    });
  }
  return rows;
}

/** What the stages that reused stored results saved, when any did. */
function savedLine(status: StatusV2): [string, string][] {
  const metrics = status.metrics;
  if (!metrics?.cachedStages) return [];
  const count = metrics.cachedStages;
  return [
    [
      'Saved:',
      `${tokens(metrics.tokensSaved ?? 0)} tokens, ${dollars(metrics.costSaved ?? '0')}  (${count} stage${count === 1 ? '' : 's'} reused from the cache)`,
    ],
  ];
}

/** The run; `children`, the child runbooks its stages run, shows their stages under those stages. */
export function renderRunTree(
  runbook: AgentRunbookJson,
  now: Date,
  children: readonly AgentRunbookJson[] = [],
): string {
  const status = runbook.status ?? {};
  const spec = runSpec(runbook);
  const ready = status.conditions?.find((condition) => condition.type === 'Ready');
  const budget = effectiveSpec(spec).budgets;
  const limits = [
    budget?.tokens?.total === undefined ? '' : `${tokens(budget.tokens.total)} tokens`,
    budget?.cost?.maxUSD === undefined ? '' : dollars(formatMicros(moneyMicros(budget.cost.maxUSD))),
  ].filter(Boolean);
  const header: [string, string][] = [
    ['Name:', runbook.metadata.name ?? ''],
    ['Namespace:', runbook.metadata.namespace ?? ''],
    ['Version:', `${runbook.spec.version}${status.revision ? `  (revision ${status.revision.number})` : ''}`],
    ...(status.template
      ? ([['Template:', `${status.template.name} (${status.template.kind})`]] as [string, string][])
      : []),
    ['Phase:', `${status.phase ?? 'Pending'}${status.progress ? `  (${status.progress} stages)` : ''}`],
    ...(ready ? ([['Reason:', `${ready.reason}: ${ready.message}`]] as [string, string][]) : []),
    ['Started:', status.startTime ?? '-'],
    ['Duration:', between(status.startTime, status.completionTime, now)],
    [
      'Usage:',
      `${tokens(status.usage?.tokens ?? 0)} tokens, ${dollars(status.usage?.costUSD ?? '0')}${limits.length ? `  (budget ${limits.join(', ')})` : ''}`,
    ],
    ...savedLine(status),
  ];
  const lines = tableLines(header.map(([key, value]) => [key, value]));
  const stages = status.stages ?? [];
  if (stages.length) lines.push('', ...tableLines(stageRows(stages, now, children)));
  const gates = status.gates ?? [];
  if (gates.length) {
    lines.push(
      '',
      ...tableLines([
        ['GATE', 'PHASE', 'DECIDED BY', 'WAITING', 'MESSAGE'],
        ...gates.map((gate) => [
          gate.name,
          gate.phase,
          gate.decidedBy ?? '-',
          gate.since ? between(gate.since, gate.decidedAt, now) : '-',
          gate.phase === 'Pending'
            ? `agentrunbook approve ${runbook.metadata.name ?? ''} ${gate.name}`
            : (gate.message ?? ''),
        ]),
      ]),
    );
  }
  return `${lines.join('\n')}\n`;
}
