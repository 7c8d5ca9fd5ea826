/** A runbook's revisions (ControllerRevisions), a diff between any two, and rolling back to one. */
import { createTwoFilesPatch } from 'diff';
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';

interface Revision {
  number: number;
  version: string;
  bump: string;
  created: string;
  changes: string[];
  specYaml: string;
}

function DiffView({ older, newer }: { older: Revision; newer: Revision }) {
  const patch = createTwoFilesPatch(
    `revision ${older.number}`,
    `revision ${newer.number}`,
    older.specYaml,
    newer.specYaml,
    '',
    '',
    { context: 3 },
  );
  const lines = patch.split('\n').slice(2);
  return html`<pre
    class="diff"
    tabindex="0"
    aria-label=${`Changes from revision ${older.number} to ${newer.number}`}
  >
${lines.map((line) => html`<span class=${line.startsWith('+') ? 'added' : line.startsWith('-') ? 'removed' : line.startsWith('@@') ? 'hunk' : ''}>${line} </span>`)}</pre>`;
}

export function Revisions({
  where,
  generation,
  act,
}: {
  where: { namespace: string; name: string };
  generation: number;
  act: (action: string, extra: Record<string, string>) => Promise<boolean>;
}) {
  const [revisions, setRevisions] = useState<Revision[]>([]);
  const [problem, setProblem] = useState('');
  const [pair, setPair] = useState<[string, string]>(['', '']);
  useEffect(() => {
    // A slower answer for an older generation never replaces a newer one.
    let current = true;
    getJson<Revision[]>('/api/revisions', where).then(
      (found) => {
        if (!current) return;
        setRevisions(found);
        setProblem('');
        const last = found.at(-1);
        const before = found.at(-2) ?? last;
        if (last && before) setPair([String(before.number), String(last.number)]);
      },
      (error: unknown) => {
        if (!current) return;
        setProblem((error as Error).message);
      },
    );
    return () => {
      current = false;
    };
  }, [where.namespace, where.name, generation]);
  const older = revisions.find((revision) => String(revision.number) === pair[0]);
  const newer = revisions.find((revision) => String(revision.number) === pair[1]);
  const choose = (index: 0 | 1) => (event: Event) => {
    const value = (event.currentTarget as HTMLSelectElement).value;
    setPair(index === 0 ? [value, pair[1]] : [pair[0], value]);
  };
  const options = revisions.map(
    (revision) =>
      html`<option value=${String(revision.number)}>
        ${revision.number} (${revision.version}, ${revision.bump})
      </option>`,
  );
  return html`<section aria-labelledby="revisions-title">
    <h2 id="revisions-title">Revisions</h2>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
    <table>
      <thead>
        <tr>
          <th>Revision</th>
          <th>Version</th>
          <th>Bump</th>
          <th>Created</th>
          <th>Changes</th>
          <th></th>
        </tr>
      </thead>
      <tbody>
        ${revisions.map(
          (revision) =>
            html`<tr key=${revision.number}>
              <td>${revision.number}</td>
              <td>${revision.version}</td>
              <td>${revision.bump}</td>
              <td>${revision.created}</td>
              <td>${revision.changes.join('; ')}</td>
              <td>
                <button
                  type="button"
                  onClick=${() => void act('rollback', { revision: String(revision.number) })}
                >
                  Roll back to ${revision.number}
                </button>
              </td>
            </tr>`,
        )}
      </tbody>
    </table>
    ${
      revisions.length > 0 &&
      html`<div class="diff-pick">
        <label
          >From
          <select value=${pair[0]} onChange=${choose(0)}>
            ${options}
          </select></label
        >
        <label
          >To
          <select value=${pair[1]} onChange=${choose(1)}>
            ${options}
          </select></label
        >
      </div>`
    }
    ${older && newer && html`<${DiffView} older=${older} newer=${newer} />`}
  </section>`;
}
