/** The run's quality gates: who decided what, and, while one waits, approve or reject with a comment. */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';

export interface GateRow {
  name: string;
  phase: string;
  since?: string;
  deadline?: string;
  decidedBy?: string;
  message?: string;
  policy?: string;
  approvals?: { count?: number; excludeAuthor?: boolean; groups?: string[] };
  approved?: number;
  decisions?: { name: string; user: string; decision: string; comment?: string; time: string }[];
}

function DecideForm({
  gate,
  act,
}: {
  gate: GateRow;
  act: (action: string, extra: Record<string, string>) => Promise<boolean>;
}) {
  const [comment, setComment] = useState('');
  const [busy, setBusy] = useState(false);
  const decide = (action: 'approve' | 'reject') => () => {
    setBusy(true);
    void act(action, { gate: gate.name, comment }).then((done) => {
      setBusy(false);
      if (done) setComment('');
    });
  };
  const id = `comment-${gate.name}`;
  return html`<div class="decide">
    <label for=${id}>Comment for gate ${gate.name}</label>
    <textarea
      id=${id}
      rows="2"
      maxlength="2048"
      value=${comment}
      onInput=${(event: Event) => {
        setComment((event.currentTarget as HTMLTextAreaElement).value);
      }}
    ></textarea>
    <div class="buttons">
      <button type="button" class="approve" disabled=${busy} onClick=${decide('approve')}>
        Approve ${gate.name}
      </button>
      <button type="button" class="reject" disabled=${busy} onClick=${decide('reject')}>
        Reject ${gate.name}
      </button>
    </div>
  </div>`;
}

export function Gates({
  gates,
  act,
}: {
  gates: GateRow[];
  act: (action: string, extra: Record<string, string>) => Promise<boolean>;
}) {
  if (gates.length === 0) return null;
  return html`<section class="gates" aria-labelledby="gates-title">
    <h2 id="gates-title">Gates</h2>
    ${gates.map((gate) => {
      const waiting = gate.phase === 'Pending' && gate.since !== undefined;
      return html`<article
        class=${`gate phase-${gate.phase}${waiting ? ' waiting' : ''}`}
        key=${gate.name}
        data-gate=${gate.name}
      >
        <h3>${gate.name} <span class="badge">${waiting ? 'waiting for a decision' : gate.phase}</span></h3>
        <p class="muted">
          ${gate.approvals?.count ? `${gate.approved ?? 0} of ${gate.approvals.count} approvals` : ''}
          ${gate.approvals?.excludeAuthor ? ' · not the author' : ''}
          ${gate.approvals?.groups?.length ? ` · approvers from ${gate.approvals.groups.join(', ')}` : ''}
          ${gate.policy ? ` · required by ${gate.policy}` : ''}
          ${gate.deadline ? ` · times out at ${gate.deadline}` : ''}
        </p>
        ${gate.message && html`<p class="message">${gate.message}</p>`}
        ${
          (gate.decisions ?? []).length > 0 &&
          html`<ul class="decisions">
            ${(gate.decisions ?? []).map(
              (decision) =>
                html`<li key=${decision.name}>
                  <strong>${decision.user}</strong> ${decision.decision.toLowerCase()} at
                  ${decision.time}${decision.comment ? html`: <q>${decision.comment}</q>` : ''}
                </li>`,
            )}
          </ul>`
        }
        ${waiting && html`<${DecideForm} gate=${gate} act=${act} />`}
      </article>`;
    })}
  </section>`;
}
