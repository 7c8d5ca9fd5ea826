/** The runbooks a viewer may list, live, filtered by namespace, labels and phase. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { useStream, useTick } from './api.js';
import { RUNBOOK_PHASES } from '../../src/api/phases.js';
import { age, clip, dollars, runHash, tokens } from './format.js';

export interface Row {
  namespace: string;
  name: string;
  uid: string;
  labels: Record<string, string>;
  created: string;
  phase: string;
  progress: string;
  tokens: number;
  costUSD: string;
  waitingGates: number;
  suspended: boolean;
}

const PHASES = ['', ...RUNBOOK_PHASES];

interface Filters {
  namespace: string;
  labelSelector: string;
  phase: string;
}

export function PhaseBadge({ phase }: { phase: string }) {
  return html`<span class=${`badge phase-${phase || 'none'}`}>${phase || '—'}</span>`;
}

export function ListPage() {
  const [filters, setFilters] = useState<Filters>({ namespace: '', labelSelector: '', phase: '' });
  const [draft, setDraft] = useState<Filters>(filters);
  const [rows, setRows] = useState<Map<string, Row>>(new Map());
  const [problem, setProblem] = useState('');
  const now = useTick(5000);
  const url = `/api/live/runbooks?${new URLSearchParams({ namespace: filters.namespace, labelSelector: filters.labelSelector }).toString()}`;
  const connected = useStream(url, {
    snapshot: (items: Row[]) => {
      setRows(new Map(items.map((row) => [row.uid, row])));
      setProblem('');
    },
    change: ({ type, row }: { type: string; row: Row }) => {
      setRows((previous) => {
        const next = new Map(previous);
        if (type === 'DELETED') next.delete(row.uid);
        else next.set(row.uid, row);
        return next;
      });
    },
    problem: ({ message }: { message: string }) => {
      setProblem(message);
    },
  });
  const shown = [...rows.values()]
    .filter((row) => !filters.phase || row.phase === filters.phase)
    .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
  const field = (key: keyof Filters) => (event: Event) => {
    const value = (event.currentTarget as HTMLInputElement | HTMLSelectElement).value;
    setDraft({ ...draft, [key]: value });
    if (key === 'phase') setFilters({ ...filters, phase: value });
  };
  return html`
    <section aria-labelledby="list-title">
      <h1 id="list-title">Runbooks</h1>
      <form
        class="filters"
        onSubmit=${(event: Event) => {
          event.preventDefault();
          setFilters(draft);
        }}
      >
        <label
          >Namespace
          <input
            name="namespace"
            value=${draft.namespace}
            placeholder="all you may list"
            onInput=${field('namespace')}
        /></label>
        <label
          >Labels
          <input
            name="labelSelector"
            value=${draft.labelSelector}
            placeholder="team=ops,tier!=dev"
            onInput=${field('labelSelector')}
        /></label>
        <label
          >Phase
          <select name="phase" value=${draft.phase} onChange=${field('phase')}>
            ${PHASES.map((phase) => html`<option value=${phase}>${phase || 'any'}</option>`)}
          </select>
        </label>
        <button type="submit">Filter</button>
        <span class=${connected ? 'live on' : 'live'} aria-live="polite"
          >${connected ? 'live' : 'connecting…'}</span
        >
      </form>
      ${problem && html`<p class="problem" role="alert">${problem}</p>`}
      <div class="table-wrap">
        <table class="runbooks">
          <thead>
            <tr>
              <th>Namespace</th>
              <th>Name</th>
              <th>Phase</th>
              <th>Progress</th>
              <th>Tokens</th>
              <th>Cost</th>
              <th>Age</th>
            </tr>
          </thead>
          <tbody>
            ${shown.map(
              (row) =>
                html`<tr key=${row.uid} data-name=${row.name}>
                  <td>${clip(row.namespace, 63)}</td>
                  <td><a href=${runHash(row.namespace, row.name)}>${clip(row.name, 80)}</a></td>
                  <td>
                    <${PhaseBadge}
                      phase=${row.phase}
                    />${row.waitingGates > 0 && html` <span class="badge gate">${row.waitingGates} gate${row.waitingGates > 1 ? 's' : ''} waiting</span>`}${row.suspended && html` <span class="badge">suspended</span>`}
                  </td>
                  <td>${row.progress}</td>
                  <td class="num">${tokens(row.tokens)}</td>
                  <td class="num">${dollars(row.costUSD)}</td>
                  <td>${age(row.created, now)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
      ${shown.length === 0 && !problem && html`<p class="empty">No runbooks${filters.namespace ? ` in ${filters.namespace}` : ''} match.</p>`}
      <p><a class="button" href="#/generate">New runbook from a template</a></p>
    </section>
  `;
}
