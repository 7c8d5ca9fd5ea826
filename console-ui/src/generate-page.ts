/** A runbook from a template and an idea's context, as `agentrunbook generate --apply` makes it. */
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson, postJson } from './api.js';
import { runHash } from './format.js';

interface Template {
  kind: string;
  name: string;
  description: string;
}

export function GeneratePage() {
  // What is typed, and the namespace whose templates are listed (set when the field is left), so
  // a re-render while typing never puts back the old value.
  const [typed, setTyped] = useState('default');
  const [namespace, setNamespace] = useState('default');
  const [templates, setTemplates] = useState<Template[]>([]);
  const [template, setTemplate] = useState('');
  const [title, setTitle] = useState('');
  const [ideaText, setIdeaText] = useState('');
  const [extra, setExtra] = useState('{}');
  const [problem, setProblem] = useState('');
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    // An answer for a namespace typed before the current one is dropped, whenever it comes.
    let current = true;
    getJson<Template[]>('/api/templates', { namespace }).then(
      (found) => {
        if (!current) return;
        setTemplates(found);
        setProblem('');
      },
      (error: unknown) => {
        if (!current) return;
        setTemplates([]);
        setProblem((error as Error).message);
      },
    );
    return () => {
      current = false;
    };
  }, [namespace]);
  const submit = (event: Event) => {
    event.preventDefault();
    let context: Record<string, unknown>;
    try {
      context = { ...(JSON.parse(extra) as Record<string, unknown>), title, ideaText };
    } catch {
      setProblem('More context must be a JSON object');
      return;
    }
    setBusy(true);
    postJson<{ name: string }>('/api/generate', { namespace: typed, template, context }).then(
      ({ name }) => {
        window.location.hash = runHash(typed, name);
      },
      (error: unknown) => {
        setBusy(false);
        setProblem((error as Error).message);
      },
    );
  };
  const text = (set: (value: string) => void) => (event: Event) => {
    set((event.currentTarget as HTMLInputElement).value);
  };
  return html`<section aria-labelledby="generate-title">
    <p class="crumbs"><a href="#/">Runbooks</a></p>
    <h1 id="generate-title">New runbook from a template</h1>
    <form class="generate" onSubmit=${submit}>
      <label
        >Namespace <input required value=${typed} onInput=${text(setTyped)} onChange=${text(setNamespace)}
      /></label>
      <label
        >Template
        <select value=${template} onChange=${text(setTemplate)}>
          <option value="">the one whose rules select the context</option>
          ${templates.map((found) => html`<option value=${found.name}>${found.name} (${found.kind})</option>`)}
        </select>
      </label>
      <label>Title <input required maxlength="200" value=${title} onInput=${text(setTitle)} /></label>
      <label
        >Idea <textarea rows="4" maxlength="8000" value=${ideaText} onInput=${text(setIdeaText)}></textarea>
      </label>
      <label
        >More context (JSON)
        <textarea rows="3" maxlength="16000" value=${extra} onInput=${text(setExtra)}></textarea>
      </label>
      <button type="submit" disabled=${busy}>Create runbook</button>
    </form>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
  </section>`;
}
