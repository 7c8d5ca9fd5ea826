/** The commands on one runbook's run: get, watch, wait, approve, reject, cancel, rerun, retry. */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { RUNBOOK_PHASES } from '../api/phases.js';
import { parseDurationMs } from '../api/grammar.js';
import { GROUP } from '../api/group.js';
import type { RunbookHandle } from '../client/runbook-actions.js';
import { TERMINAL_RUN } from '../engine/run/summary.js';
import type { AgentRunbookJson } from '../kube/types.js';
import { render, withClusterFlags, type ClusterFlags } from './cluster-flags.js';
import { renderRunTree } from './run-tree.js';
import { withRunbook } from './runbook-client.js';
import { EXIT_CODES, followRun } from './follow-run.js';

const parseTimeout = (text: string) => {
  if (text === '0') return 0;
  try {
    return parseDurationMs(text);
  } catch {
    throw new InvalidArgumentError('a duration such as 30s, 10m or 1h');
  }
};

const CLEAR_SCREEN = '\x1b[H\x1b[2J';

function show(runbook: AgentRunbookJson, output: string): string {
  return output === 'tree' ? renderRunTree(runbook, new Date()) : render(runbook, output);
}

const finished = (runbook: AgentRunbookJson) => TERMINAL_RUN.has(runbook.status?.phase ?? '');

/** The exit code of a finished run: 0 only when it succeeded. */
const exitCodeOf = (runbook: AgentRunbookJson) =>
  runbook.status?.phase === 'Succeeded' ? EXIT_CODES.ok : EXIT_CODES.runNotSucceeded;

/**
 * Prints the run each time it changes, redrawn in place on a terminal, until it finishes; returns
 * the exit code (EXIT_CODES).
 */
async function watchRun(client: RunbookHandle, output: string): Promise<number> {
  const tty = process.stdout.isTTY;
  let last = '';
  let latest: AgentRunbookJson | undefined;
  const draw = (runbook: AgentRunbookJson) => {
    latest = runbook;
    const text = show(runbook, output);
    if (text === last) return;
    last = text;
    process.stdout.write(tty ? `${CLEAR_SCREEN}${text}` : `${text}\n`);
  };
  // On a terminal the durations of running stages tick on between changes.
  const redraw = setInterval(() => {
    if (tty && output === 'tree' && latest) draw(latest);
  }, 1000);
  try {
    return exitCodeOf(await followRun(client, finished, draw));
  } finally {
    clearInterval(redraw);
  }
}

/** A --for condition, as kubectl wait takes it: phase=<Phase> or condition=<Type>[=<Status>]. */
interface WaitFor {
  describe: string;
  holds(runbook: AgentRunbookJson): boolean;
}

export function parseWaitFor(text: string): WaitFor {
  const [kind, rest = ''] = text.split(/=(.*)/s, 2) as [string, string | undefined];
  if (kind === 'phase' && (RUNBOOK_PHASES as readonly string[]).includes(rest))
    return { describe: `phase ${rest}`, holds: (runbook) => runbook.status?.phase === rest };
  if (kind === 'condition' && rest) {
    const [type, status = 'True'] = rest.split('=', 2) as [string, string | undefined];
    return {
      describe: `condition ${type}=${status}`,
      holds: (runbook) =>
        runbook.status?.conditions?.some(
          (condition) => condition.type === type && condition.status.toLowerCase() === status.toLowerCase(),
        ) ?? false,
    };
  }
  throw new InvalidArgumentError(`phase=<${RUNBOOK_PHASES.join('|')}> or condition=<type>[=<status>]`);
}

/** Waits until the condition holds (0), the run finishes without it (2) or the timeout passes (3). */
async function waitFor(client: RunbookHandle, condition: WaitFor, timeoutMs: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    if (timeoutMs > 0)
      timer = setTimeout(() => {
        resolve('timeout');
      }, timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      followRun(client, (runbook) => condition.holds(runbook) || finished(runbook)),
      timedOut,
    ]);
    const resource = `agentrunbook.${GROUP}/${client.name}`;
    if (outcome === 'timeout') {
      process.stderr.write(`${resource}: timed out waiting for ${condition.describe}\n`);
      return EXIT_CODES.timedOut;
    }
    if (condition.holds(outcome)) {
      process.stdout.write(`${resource} ${condition.describe} met\n`);
      return EXIT_CODES.ok;
    }
    process.stderr.write(
      `${resource} finished ${outcome.status?.phase ?? ''} without ${condition.describe}: ${readyMessage(outcome)}\n`,
    );
    return EXIT_CODES.runNotSucceeded;
  } finally {
    clearTimeout(timer);
  }
}

const readyMessage = (runbook: AgentRunbookJson) =>
  runbook.status?.conditions?.find((condition) => condition.type === 'Ready')?.message ?? '';

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
    process.exitCode = await withRunbook(name, flags, (client) => watchRun(client, flags.output));
  });

  withClusterFlags(
    program
      .command('wait <name>')
      .description(
        'Wait until a run meets a condition, as kubectl wait does: exit 0 when it does, 2 when the run finished without it, 3 at the timeout',
      )
      .addOption(
        new Option('--for <condition>', 'phase=<Phase> or condition=<Type>[=<Status>]')
          .default(parseWaitFor('phase=Succeeded'), 'phase=Succeeded')
          .argParser(parseWaitFor),
      )
      .addOption(
        new Option('--timeout <duration>', 'how long to wait (30s, 10m, 1h); 0 waits for ever')
          .default(0, '0')
          .argParser(parseTimeout),
      ),
  ).action(async (name: string, flags: ClusterFlags & { for: WaitFor; timeout: number }) => {
    process.exitCode = await withRunbook(name, flags, (client) => waitFor(client, flags.for, flags.timeout));
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

  withClusterFlags(
    program
      .command('retry <name>')
      .description(
        'Run again the failed stages of a run that ended Failed, TimedOut or BudgetExceeded, and the stages after them, keeping the succeeded stages with their outputs (as argo retry)',
      ),
  ).action(async (name: string, flags: ClusterFlags) => {
    await withRunbook(name, flags, async (client) => {
      await client.retry();
      process.stdout.write(`agentrunbook.i2s.studio/${name} retried\n`);
    });
  });
}
