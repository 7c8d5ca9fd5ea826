/** The commands on one runbook's run: get, watch, approve, reject, cancel, rerun. */
import { Option, type Command } from 'commander';
import { GROUP } from '../api/group.js';
import type { RunbookHandle } from '../client/runbook-actions.js';
import { TERMINAL_RUN } from '../engine/run/summary.js';
import type { AgentRunbookJson } from '../kube/types.js';
import { render, withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { renderRunTree } from './run-tree.js';
import { withRunbook } from './runbook-client.js';

const CLEAR_SCREEN = '\x1b[H\x1b[2J';
/** How long one watch request lasts before it is made again (as kubectl's --request-timeout does). */
const WATCH_SECONDS = 300;

function show(runbook: AgentRunbookJson, output: string): string {
  return output === 'tree' ? renderRunTree(runbook, new Date()) : render(runbook, output);
}

/**
 * Prints the run each time it changes, redrawn in place on a terminal, until it finishes (exit 0)
 * or the watch fails (an error).
 */
async function watchRun(client: RunbookHandle, output: string): Promise<void> {
  const tty = process.stdout.isTTY;
  let last = '';
  const draw = (runbook: AgentRunbookJson) => {
    const text = show(runbook, output);
    if (text === last) return;
    last = text;
    process.stdout.write(tty ? `${CLEAR_SCREEN}${text}` : `${text}\n`);
  };
  let runbook = await client.get();
  draw(runbook);
  // On a terminal the durations of running stages tick on between changes.
  const redraw = setInterval(() => {
    if (tty && output === 'tree') draw(runbook);
  }, 1000);
  try {
    while (!TERMINAL_RUN.has(runbook.status?.phase ?? '')) {
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
            runbook = latest;
            draw(latest);
            if (TERMINAL_RUN.has(latest.status?.phase ?? '')) {
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
  } finally {
    clearInterval(redraw);
  }
}

function gateCommand(program: Command, verdict: 'Approved' | 'Rejected'): void {
  const verb = verdict === 'Approved' ? 'approve' : 'reject';
  withClusterFlags(
    program
      .command(`${verb} <name> <gate>`)
      .description(
        `${verdict === 'Approved' ? 'Approve' : 'Reject'} a quality gate of a runbook: makes a GateDecision (needs create on gatedecisions and the approve verb on the runbook; the webhook records who decided)`,
      )
      .option('-m, --comment <text>', 'why, for the people who read the run'),
  ).action(async (name: string, gate: string, flags: ClusterFlags & { comment?: string }) => {
    await withRunbook(name, flags, async (client) => {
      const made = await client.decide(gate, verdict, flags.comment);
      process.stdout.write(
        `gatedecision.${GROUP}/${made}: gate ${gate} of ${name} ${verdict.toLowerCase()}\n`,
      );
    });
  });
}

/** kubectl's -o, with the run's tree as the default. */
const treeOutput = () =>
  new Option('-o, --output <format>', 'output format').choices(['tree', 'yaml', 'json']).default('tree');

export function registerRunCommands(program: Command): void {
  withClusterFlags(
    program
      .command('get <name>')
      .description(
        'Show a run: its phase, usage, and a tree of its stages (phase, attempt, duration, tokens, cost) and gates',
      )
      .addOption(treeOutput()),
  ).action(async (name: string, flags: ClusterFlags & { output: string }) => {
    await withRunbook(name, flags, async (client) => {
      const runbook = await client.get();
      const tree = flags.output === 'tree';
      const children = tree ? await client.children(runbook.metadata.uid) : [];
      process.stdout.write(tree ? renderRunTree(runbook, new Date(), children) : show(runbook, flags.output));
    });
  });

  withClusterFlags(
    program
      .command('watch <name>')
      .description('Show a run as get does, redrawn as it changes, until it finishes')
      .addOption(treeOutput()),
  ).action(async (name: string, flags: ClusterFlags & { output: string }) => {
    await withRunbook(name, flags, (client) => watchRun(client, flags.output));
  });

  gateCommand(program, 'Approved');
  gateCommand(program, 'Rejected');

  withClusterFlags(
    program
      .command('cancel <name>')
      .description(
        'Cancel a run: its running Jobs are deleted, the stages not yet run are skipped (spec.status: Cancelled)',
      ),
  ).action(async (name: string, flags: ClusterFlags) => {
    await withRunbook(name, flags, async (client) => {
      await client.cancel();
      process.stdout.write(`agentrunbook.i2s.studio/${name} cancelled\n`);
    });
  });

  withClusterFlags(
    program
      .command('rerun <name>')
      .description('Run a runbook again from the start with the same spec (a cancelled one too)'),
  ).action(async (name: string, flags: ClusterFlags) => {
    await withRunbook(name, flags, async (client) => {
      await client.rerun();
      process.stdout.write(`agentrunbook.i2s.studio/${name} rerun\n`);
    });
  });
}
