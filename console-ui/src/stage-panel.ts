/** One stage of a run: its attempts, times, usage, outputs (large ones in part) and its log, live. */
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { getJson, useStream } from './api.js';
import { between, dollars, outputText, tokens } from './format.js';

export interface StageStatus {
  name: string;
  workflow?: string;
  phase: string;
  attempt?: number;
  job?: string;
  startTime?: string;
  completionTime?: string;
  nextAttemptTime?: string;
  reason?: string;
  message?: string;
  outputs?: Record<string, unknown>;
  outputRefs?: Record<string, { configMap: string; key: string; bytes: number; preview: string }>;
  usage?: { tokens?: number; costUSD?: string };
  grant?: { tokens?: number; costUSD?: string };
}

interface Where {
  namespace: string;
  name: string;
}

function StoredOutput({
  where,
  output,
  reference,
}: {
  where: Where;
  output: string;
  reference: NonNullable<StageStatus['outputRefs']>[string];
}) {
  const [part, setPart] = useState<{ text: string; total: number } | undefined>();
  const [problem, setProblem] = useState('');
  const params = { ...where, configMap: reference.configMap, key: reference.key };
  const open = () => {
    setProblem('');
    getJson<{ text: string; total: number }>('/api/output', params).then(setPart, (error: unknown) => {
      setProblem((error as Error).message);
    });
  };
  return html`<div class="output">
    <h4>
      ${output}
      <span class="muted"
        >(${reference.bytes.toLocaleString('en')} bytes, kept in ConfigMap ${reference.configMap})</span
      >
    </h4>
    ${
      part
        ? html`<pre class="output-text" tabindex="0">${part.text}</pre>
            ${part.text.length < part.total && html`<p class="muted">Showing the first ${part.text.length.toLocaleString('en')} of ${part.total.toLocaleString('en')} characters.</p>`}`
        : html`<pre class="output-text preview">${reference.preview}</pre>
            <button type="button" onClick=${open}>Open ${output}</button>`
    }
    <a
      class="button"
      href=${`/api/output?${new URLSearchParams({ ...params, download: '1' }).toString()}`}
      download
      >Download ${output}</a
    >
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
  </div>`;
}

/** Lines kept per attempt in the page; older ones are dropped as new ones come. */
const MAX_LINES = 5000;

function StageLog({ where, stage }: { where: Where; stage: string }) {
  const [attempts, setAttempts] = useState<Map<string, string[]>>(new Map());
  const [problem, setProblem] = useState('');
  const end = useRef<HTMLPreElement>(null);
  const url = `/api/live/logs?${new URLSearchParams({ ...where, stage }).toString()}`;
  const connected = useStream(
    url,
    {
      attempt: ({ attempt }: { attempt: string }) => {
        setAttempts((previous) => new Map(previous).set(attempt, previous.get(attempt) ?? []));
      },
      line: ({ attempt, line }: { attempt: string; line: string }) => {
        setAttempts((previous) => {
          const lines = [...(previous.get(attempt) ?? []), line];
          return new Map(previous).set(attempt, lines.length > MAX_LINES ? lines.slice(-MAX_LINES) : lines);
        });
      },
      problem: ({ message }: { message: string }) => {
        setProblem(message);
      },
    },
    () => {
      setAttempts(new Map());
    },
  );
  useEffect(() => {
    end.current?.scrollIntoView({ block: 'nearest' });
  }, [attempts]);
  return html`<section class="log" aria-label=${`Log of ${stage}`}>
    <h4>
      Log <span class=${connected ? 'live on' : 'live'}>${connected ? 'following' : 'connecting…'}</span>
    </h4>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    ${attempts.size === 0 && html`<p class="muted">No attempt has started yet.</p>`}
    ${[...attempts.entries()]
      .sort(([a], [b]) => Number(a) - Number(b))
      .map(
        ([attempt, lines]) =>
          html`<div key=${attempt}>
            <h5>Attempt ${attempt}</h5>
            <pre class="log-text" data-attempt=${attempt} tabindex="0">${lines.join('\n')}</pre>
          </div>`,
      )}
    <pre ref=${end} class="log-end"></pre>
  </section>`;
}

export function StagePanel({
  where,
  stage,
  execution,
  now,
}: {
  where: Where;
  stage: StageStatus;
  /** The run's current execution: a rerun or a spec change starts a new one, whose log is followed anew. */
  execution: string;
  now: number;
}) {
  const [showLog, setShowLog] = useState(stage.phase === 'Running');
  return html`<section class="stage-panel" aria-labelledby="stage-title">
    <h3 id="stage-title">Stage ${stage.name}</h3>
    <dl class="facts">
      <dt>Phase</dt>
      <dd data-field="phase">${stage.phase}${stage.reason ? ` (${stage.reason})` : ''}</dd>
      <dt>Workflow</dt>
      <dd>${stage.workflow ?? 'main'}</dd>
      <dt>Attempt</dt>
      <dd>${stage.attempt ?? 0}</dd>
      <dt>Duration</dt>
      <dd>${between(stage.startTime, stage.completionTime, now)}</dd>
      <dt>Tokens</dt>
      <dd>
        ${tokens(stage.usage?.tokens)}${stage.grant?.tokens ? ` of ${tokens(stage.grant.tokens)} granted` : ''}
      </dd>
      <dt>Cost</dt>
      <dd>${dollars(stage.usage?.costUSD)}</dd>
      ${
        stage.nextAttemptTime &&
        html`<dt>Next attempt</dt>
          <dd>${stage.nextAttemptTime}</dd>`
      }
    </dl>
    ${stage.message && html`<p class="message">${stage.message}</p>`}
    <h4>Outputs</h4>
    ${Object.keys(stage.outputs ?? {}).length === 0 && Object.keys(stage.outputRefs ?? {}).length === 0 && html`<p class="muted">None yet.</p>`}
    ${Object.entries(stage.outputs ?? {}).map(([output, value]) => {
      const shown = outputText(value);
      return html`<div class="output" key=${output}>
        <h4>${output}${shown.json ? html` <span class="muted">JSON</span>` : ''}</h4>
        <pre class="output-text" tabindex="0">${shown.text}</pre>
      </div>`;
    })}
    ${Object.entries(stage.outputRefs ?? {}).map(([output, reference]) => html`<${StoredOutput} key=${output} where=${where} output=${output} reference=${reference} />`)}
    <p>
      <button
        type="button"
        aria-expanded=${showLog}
        onClick=${() => {
          setShowLog(!showLog);
        }}
      >
        ${showLog ? 'Hide log' : 'Show log'}
      </button>
    </p>
    ${showLog && html`<${StageLog} key=${`${stage.name}/${execution}`} where=${where} stage=${stage.name} />`}
  </section>`;
}
