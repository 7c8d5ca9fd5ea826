/** One run, live: phase, budgets, actions, gates, the stage graph, a stage's detail, Events, spec, revisions. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { FINISHED_RUN_PHASES } from '../../src/api/phases.js';
import { postJson, useStream, useTick } from './api.js';
import { between, clip, dollars, duration, tokens } from './format.js';
import { Gates, type GateRow } from './gates.js';
import { StageGraph, type RunGraph } from './graph.js';
import { PhaseBadge } from './list-page.js';
import { Revisions } from './revisions.js';
import { StagePanel, type StageStatus } from './stage-panel.js';

interface Runbook {
  metadata: {
    name: string;
    namespace: string;
    generation?: number;
    creationTimestamp?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: { description?: string; suspend?: boolean; status?: string; version?: string };
  status?: {
    execution?: string;
    phase?: string;
    progress?: string;
    startTime?: string;
    completionTime?: string;
    usage?: { tokens?: number; costUSD?: string };
    stages?: StageStatus[];
    gates?: GateRow[];
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: string;
    }[];
    alerts?: { name: string; severity?: string; since: string; message?: string }[];
    workflow?: {
      active: string;
      fallbackTriggers?: number;
      emergencyTriggers?: number;
      emergencyCause?: string;
    };
  };
}

interface Budget {
  name: 'tokens' | 'cost' | 'time';
  used: number;
  limit: number;
}

interface EventRow {
  uid: string;
  type: string;
  reason: string;
  message: string;
  count: number;
  last: string;
}

const TABS = ['Overview', 'Events', 'Spec', 'Revisions'] as const;

function BudgetBars({ budgets }: { budgets: Budget[] }) {
  if (budgets.length === 0) return null;
  const show = (budget: Budget, value: number) =>
    budget.name === 'tokens' ? tokens(value) : budget.name === 'cost' ? dollars(value) : duration(value);
  return html`<div class="budgets">
    ${budgets.map((budget) => {
      const share = budget.limit > 0 ? Math.min(1, budget.used / budget.limit) : 0;
      return html`<div class="budget" key=${budget.name}>
        <label for=${`budget-${budget.name}`}
          >${budget.name}: ${show(budget, budget.used)} of ${show(budget, budget.limit)}</label
        >
        <meter id=${`budget-${budget.name}`} min="0" max="1" low="0.7" high="0.9" optimum="0" value=${share}>
          ${Math.round(share * 100)}%
        </meter>
      </div>`;
    })}
  </div>`;
}

/** Which workflows the graph shows: main and validation always, fallback and emergency once they ran. */
function shownWorkflows(runbook: Runbook): Set<string> {
  const shown = new Set(['main', 'validation']);
  for (const stage of runbook.status?.stages ?? [])
    if (stage.startTime && stage.workflow) shown.add(stage.workflow);
  if (runbook.status?.workflow?.active) shown.add(runbook.status.workflow.active);
  return shown;
}

export function RunPage({ namespace, name }: { namespace: string; name: string }) {
  const [runbook, setRunbook] = useState<Runbook | undefined>();
  const [specYaml, setSpecYaml] = useState('');
  const [graph, setGraph] = useState<RunGraph | undefined>();
  const [budgets, setBudgets] = useState<Budget[]>([]);
  const [events, setEvents] = useState<Map<string, EventRow>>(new Map());
  const [problem, setProblem] = useState('');
  const [missing, setMissing] = useState('');
  const [selected, setSelected] = useState<string | undefined>();
  const [tab, setTab] = useState<(typeof TABS)[number]>('Overview');
  const [notice, setNotice] = useState<{ ok: boolean; text: string } | undefined>();
  const now = useTick(1000);
  const where = { namespace, name };
  const connected = useStream(`/api/live/run?${new URLSearchParams(where).toString()}`, {
    run: (message: {
      runbook?: Runbook;
      specYaml?: string;
      graph?: RunGraph;
      budgets?: Budget[];
      missing?: string;
    }) => {
      if (message.missing) {
        setMissing(message.missing);
        return;
      }
      setMissing('');
      setProblem('');
      setRunbook(message.runbook);
      setSpecYaml(message.specYaml ?? '');
      setGraph(message.graph);
      setBudgets(message.budgets ?? []);
    },
    events: (rows: EventRow[]) => {
      setEvents(new Map(rows.map((row) => [row.uid, row])));
    },
    event: (row: EventRow) => {
      setEvents((previous) => new Map(previous).set(row.uid, row));
    },
    problem: ({ message }: { message: string }) => {
      setProblem(message);
    },
  });

  const act = async (action: string, extra: Record<string, string> = {}): Promise<boolean> => {
    setNotice(undefined);
    try {
      const { message } = await postJson<{ message: string }>('/api/action', { ...where, action, ...extra });
      setNotice({ ok: true, text: message });
      return true;
    } catch (error) {
      setNotice({ ok: false, text: (error as Error).message });
      return false;
    }
  };

  if (missing)
    return html`<section>
      <h1>${clip(name, 80)}</h1>
      <p class="problem" role="alert">${missing}</p>
    </section>`;
  if (!runbook)
    return html`<section>
      <h1>${clip(name, 80)}</h1>
      ${problem ? html`<p class="problem" role="alert">${problem}</p>` : html`<p class="loading">Loading…</p>`}
    </section>`;

  const status = runbook.status ?? {};
  const stages = status.stages ?? [];
  const phases = new Map(stages.map((stage) => [stage.name, stage.phase]));
  const workflows = shownWorkflows(runbook);
  const shownGraph = graph && {
    nodes: graph.nodes.filter((node) => workflows.has(node.workflow)),
    edges: graph.edges,
  };
  const stage = stages.find((candidate) => candidate.name === selected);
  // Sentences are built here, not in the template, where the formatter may move their spaces.
  const summary = [
    `${status.progress ?? '0/0'} stages`,
    `${tokens(status.usage?.tokens)} tokens`,
    dollars(status.usage?.costUSD),
    `running for ${between(status.startTime, status.completionTime, now) || '0s'}`,
    ...(runbook.spec.suspend ? ['suspended'] : []),
    ...(status.workflow && status.workflow.active !== 'main' ? [`${status.workflow.active} workflow`] : []),
  ].join(' · ');
  const workflowLine = status.workflow
    ? [
        `Active: ${status.workflow.active}`,
        `fallback triggers ${status.workflow.fallbackTriggers ?? 0}`,
        `emergency triggers ${status.workflow.emergencyTriggers ?? 0}`,
        ...(status.workflow.emergencyCause ? [`cause: ${status.workflow.emergencyCause}`] : []),
      ].join('; ')
    : '';
  const finished = FINISHED_RUN_PHASES.includes(status.phase ?? '');
  return html`<section class="run" aria-labelledby="run-title">
    <p class="crumbs"><a href="#/">Runbooks</a> / ${clip(namespace, 63)}</p>
    <h1 id="run-title" class="run-title">
      ${clip(name, 120)} <${PhaseBadge} phase=${status.phase ?? ''} />
      <span class=${connected ? 'live on' : 'live'}>${connected ? 'live' : 'connecting…'}</span>
    </h1>
    ${runbook.spec.description && html`<p class="description">${clip(runbook.spec.description, 2000)}</p>`}
    <p class="summary">${summary}</p>
    <${BudgetBars} budgets=${budgets} />
    <div class="actions" role="group" aria-label="Run actions">
      <button
        type="button"
        disabled=${finished || runbook.spec.status === 'Cancelled'}
        onClick=${() => void act('cancel')}
      >
        Cancel
      </button>
      <button type="button" onClick=${() => void act('rerun')}>Rerun</button>
      ${
        runbook.spec.suspend
          ? html`<button type="button" onClick=${() => void act('resume')}>Resume</button>`
          : html`<button type="button" disabled=${finished} onClick=${() => void act('suspend')}>
              Suspend
            </button>`
      }
    </div>
    ${notice && html`<p class=${notice.ok ? 'notice' : 'problem'} role=${notice.ok ? 'status' : 'alert'} data-notice=${notice.ok ? 'ok' : 'refused'}>${notice.text}</p>`}
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <${Gates} gates=${status.gates ?? []} act=${act} />
    <h2>Stages</h2>
    ${shownGraph && html`<${StageGraph} graph=${shownGraph} phases=${phases} selected=${selected} onSelect=${setSelected} />`}
    ${stage ? html`<${StagePanel} key=${stage.name} where=${where} stage=${stage} execution=${status.execution ?? ''} now=${now} />` : html`<p class="muted">Select a stage to see its attempts, outputs and log.</p>`}
    <div class="tabs" role="tablist" aria-label="Run details">
      ${TABS.map(
        (name) =>
          html`<button
            type="button"
            role="tab"
            id=${`tab-${name}`}
            aria-selected=${tab === name}
            aria-controls="tab-panel"
            onClick=${() => {
              setTab(name);
            }}
          >
            ${name}
          </button>`,
      )}
    </div>
    <div id="tab-panel" role="tabpanel" aria-labelledby=${`tab-${tab}`}>
      ${
        tab === 'Overview' &&
        html` <h2>Conditions</h2>
          <table>
            <thead>
              <tr>
                <th>Type</th>
                <th>Status</th>
                <th>Reason</th>
                <th>Message</th>
                <th>Since</th>
              </tr>
            </thead>
            <tbody>
              ${(status.conditions ?? []).map(
                (condition) =>
                  html`<tr key=${condition.type}>
                    <td>${condition.type}</td>
                    <td>${condition.status}</td>
                    <td>${condition.reason}</td>
                    <td class="wrap">${condition.message}</td>
                    <td>${condition.lastTransitionTime}</td>
                  </tr>`,
              )}
            </tbody>
          </table>
          ${
            (status.alerts ?? []).length > 0 &&
            html`<h2>Alerts</h2>
              <ul>
                ${(status.alerts ?? []).map((alert) => html`<li key=${alert.name}><strong>${alert.name}</strong> (${alert.severity}) since ${alert.since}${alert.message ? `: ${alert.message}` : ''}</li>`)}
              </ul>`
          }
          ${
            status.workflow &&
            html`<h2>Workflows</h2>
              <p>${workflowLine}</p>`
          }
          <h2>All stages</h2>
          <table>
            <thead>
              <tr>
                <th>Stage</th>
                <th>Workflow</th>
                <th>Phase</th>
                <th>Attempt</th>
                <th>Duration</th>
                <th>Tokens</th>
                <th>Cost</th>
              </tr>
            </thead>
            <tbody>
              ${stages.map(
                (row) =>
                  html`<tr key=${row.name}>
                    <td>
                      <button
                        type="button"
                        class="link"
                        onClick=${() => {
                          setSelected(row.name);
                        }}
                      >
                        ${clip(row.name, 63)}
                      </button>
                    </td>
                    <td>${row.workflow ?? 'main'}</td>
                    <td>${row.phase}</td>
                    <td>${row.attempt ?? 0}</td>
                    <td>${between(row.startTime, row.completionTime, now)}</td>
                    <td class="num">${tokens(row.usage?.tokens)}</td>
                    <td class="num">${dollars(row.usage?.costUSD)}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
      }
      ${
        tab === 'Events' &&
        html`<table class="events">
          <thead>
            <tr>
              <th>Type</th>
              <th>Reason</th>
              <th>Count</th>
              <th>Last</th>
              <th>Message</th>
            </tr>
          </thead>
          <tbody>
            ${[...events.values()]
              .sort((a, b) => b.last.localeCompare(a.last))
              .slice(0, 200)
              .map(
                (event) =>
                  html`<tr key=${event.uid}>
                    <td>${event.type}</td>
                    <td>${event.reason}</td>
                    <td>${event.count}</td>
                    <td>${event.last}</td>
                    <td class="wrap">${event.message}</td>
                  </tr>`,
              )}
          </tbody>
        </table>`
      }
      ${tab === 'Spec' && html`<pre class="spec" tabindex="0" aria-label="Spec as YAML">${specYaml}</pre>`}
      ${tab === 'Revisions' && html`<${Revisions} where=${where} generation=${runbook.metadata.generation ?? 0} act=${act} />`}
    </div>
  </section>`;
}
