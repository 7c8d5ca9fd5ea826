/** A connection to one named runbook for the CLI's commands on it, closed after the command. */
import { RunbookHandle } from '../client/runbook-actions.js';
import { connect, type ClusterFlags } from './cluster-flags.js';

/** Runs `work` with a handle on runbook `name`, closing the connection after. */
export async function withRunbook<T>(
  name: string,
  flags: ClusterFlags,
  work: (client: RunbookHandle) => Promise<T>,
): Promise<T> {
  const { http, namespace } = await connect(flags);
  try {
    return await work(new RunbookHandle(http, namespace, name));
  } finally {
    http.close();
  }
}
