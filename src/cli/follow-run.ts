/** Following one runbook through watches until a condition on it holds, and the exit codes that report it. */
import type { RunbookHandle } from '../client/runbook-actions.js';
import type { AgentRunbookJson } from '../kube/types.js';

/**
 * The exit codes of `watch` and `wait`, documented in docs/cli.md so that scripts can tell a failed
 * run from a failed command.
 */
export const EXIT_CODES = {
  /** The run succeeded (watch), or the condition holds (wait). */
  ok: 0,
  /** The command itself failed: bad flags, the API server, a runbook that does not exist. */
  error: 1,
  /** The run finished other than Succeeded (watch), or so that the condition cannot hold (wait). */
  runNotSucceeded: 2,
  /** --timeout passed first. */
  timedOut: 3,
} as const;

/** How long one watch request lasts before it is made again (as kubectl's --request-timeout does). */
const WATCH_SECONDS = 300;

/**
 * Calls `onChange` with the runbook now and at each change until `done` says the runbook is where
 * it should be; resolves with that runbook. A deleted runbook rejects.
 */
export async function followRun(
  client: RunbookHandle,
  done: (runbook: AgentRunbookJson) => boolean,
  onChange: (runbook: AgentRunbookJson) => void = () => undefined,
): Promise<AgentRunbookJson> {
  let runbook = await client.get();
  onChange(runbook);
  while (!done(runbook)) {
    runbook = await new Promise<AgentRunbookJson>((resolve, reject) => {
      let latest = runbook;
      const handle = client.http.watch(
        client.path.slice(0, client.path.lastIndexOf('/')),
        {
          fieldSelector: `metadata.name=${client.name}`,
          resourceVersion: runbook.metadata.resourceVersion,
          timeoutSeconds: WATCH_SECONDS,
        },
        (event) => {
          if (event.type === 'DELETED') reject(new Error(`agentrunbook ${client.name} was deleted`));
          if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
          latest = event.object as AgentRunbookJson;
          onChange(latest);
          if (done(latest)) {
            void handle.then((watch) => {
              watch.abort();
            });
            resolve(latest);
          }
        },
        (error) => {
          if (error) reject(error instanceof Error ? error : new Error('the watch failed'));
          else resolve(latest);
        },
      );
      handle.catch(reject);
    });
  }
  return runbook;
}
