/** Signing in to the in-cluster console with one's own bearer token (when no proxy forwards one). */
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { postJson } from './api.js';

export function LoginPage({ problem: given, onSignedIn }: { problem?: string; onSignedIn: () => void }) {
  const [token, setToken] = useState('');
  const [problem, setProblem] = useState(given ?? '');
  const submit = (event: Event) => {
    event.preventDefault();
    postJson('/api/login', { token }).then(onSignedIn, (error: unknown) => {
      setProblem((error as Error).message);
    });
  };
  return html`<section aria-labelledby="login-title" class="login">
    <h1 id="login-title">Sign in</h1>
    <p>
      The console acts with your own identity. Paste a bearer token the cluster accepts (for example
      <code>kubectl create token</code>, or your OIDC ID token); it is kept only in a sealed, HttpOnly cookie.
    </p>
    <form onSubmit=${submit}>
      <label
        >Token
        <input
          type="password"
          autocomplete="off"
          required
          value=${token}
          onInput=${(event: Event) => {
            setToken((event.currentTarget as HTMLInputElement).value);
          }}
      /></label>
      <button type="submit">Sign in</button>
    </form>
    ${problem && html`<p class="problem" role="alert">${problem}</p>`}
  </section>`;
}
