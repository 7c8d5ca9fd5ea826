/** The console's front end: a hash router over the list, a run, the generator and the sign-in page. */
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { loadSession, postJson, type Session } from './api.js';
import { GeneratePage } from './generate-page.js';
import { ListPage } from './list-page.js';
import { LoginPage } from './login-page.js';
import { RunPage } from './run-page.js';

type Route = { page: 'list' } | { page: 'generate' } | { page: 'run'; namespace: string; name: string };

function route(hash: string): Route {
  const parts = hash
    .replace(/^#\/?/, '')
    .split('/')
    .map((part) => decodeURIComponent(part));
  if (parts[0] === 'run' && parts[1] && parts[2]) return { page: 'run', namespace: parts[1], name: parts[2] };
  if (parts[0] === 'generate') return { page: 'generate' };
  return { page: 'list' };
}

function App() {
  const [session, setSession] = useState<Session | undefined>();
  const [problem, setProblem] = useState('');
  const [current, setCurrent] = useState(route(window.location.hash));
  const refresh = () => {
    loadSession().then(setSession, (error: unknown) => {
      setProblem((error as Error).message);
    });
  };
  useEffect(() => {
    refresh();
    const onHash = () => {
      setCurrent(route(window.location.hash));
    };
    window.addEventListener('hashchange', onHash);
    return () => {
      window.removeEventListener('hashchange', onHash);
    };
  }, []);
  if (!session)
    return html`<main>
      ${problem ? html`<p class="problem" role="alert">${problem}</p>` : html`<p class="loading">Loading…</p>`}
    </main>`;
  const signOut = () => {
    void postJson('/api/logout', {}).then(refresh);
  };
  return html`
    <header class="top">
      <a class="brand" href="#/">AgentRunbook</a>
      <nav aria-label="Main"><a href="#/">Runbooks</a> <a href="#/generate">New</a></nav>
      <span class="who"
        >${session.signedIn ? html`signed in as <strong>${session.user}</strong>` : ''}${session.mode === 'cluster' && session.signedIn ? html` <button type="button" class="link" onClick=${signOut}>Sign out</button>` : ''}</span
      >
    </header>
    <main>
      ${
        !session.signedIn
          ? session.mode === 'cluster'
            ? html`<${LoginPage} problem=${session.problem} onSignedIn=${refresh} />`
            : html`<p class="problem" role="alert">
                The kubeconfig's identity was not accepted: ${session.problem}
              </p>`
          : current.page === 'run'
            ? html`<${RunPage}
                key=${`${current.namespace}/${current.name}`}
                namespace=${current.namespace}
                name=${current.name}
              />`
            : current.page === 'generate'
              ? html`<${GeneratePage} />`
              : html`<${ListPage} />`
      }
    </main>
  `;
}

const root = document.getElementById('app');
if (root) {
  root.textContent = '';
  render(html`<${App} />`, root);
}
