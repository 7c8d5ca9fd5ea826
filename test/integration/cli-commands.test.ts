import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import type { SpecV2 } from '../../src/api/v2/runbook.js';
import { kubectl, layerBinary } from '../../hack/local-cluster/tools.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { eventually } from '../support/eventually.js';
import { builtCli, startCli } from '../support/cli-process.js';
import { RunbookEnv } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';
import { LABEL_RUNBOOK } from '../../src/api/labels.js';
import { BROKEN_CEL_RULES } from '../support/invalid-runbooks.js';

const CATALOG: AgentCatalog = {
  agents: ['a', 'b', 'c', 'slow'].map((name) => ({ name, image: `registry.example/agents/${name}:1.0.0` })),
};
const SPECIFICATION = join(repoRoot, 'test', 'fixtures', 'specification');

const runbook = (name: string, spec: Partial<SpecV2> & { agents: SpecV2['agents'] }) => ({
  apiVersion: 'i2s.studio/v2',
  kind: 'AgentRunbook',
  metadata: { name },
  spec: { version: '1.0.0', execution: { mode: 'hybrid' }, ...spec },
});

const chain = (...names: string[]) =>
  names.map((name, index) => ({ name, ...(index ? { dependsOn: [names[index - 1] ?? ''] } : {}) }));

describe('the agentrunbook CLI against a real API server', function () {
  this.timeout(300_000);
  const env = new RunbookEnv('cli', CATALOG, { webhook: true });
  const scratch = mkdtempSync(join(tmpdir(), 'agentrunbook-cli-'));

  /** Runbooks whose stage b fails (not retryably). */
  const failingB = new Set<string>();
  before(async () => {
    await env.start();
    env.script = (call) =>
      call.agent === 'slow'
        ? 'hold'
        : call.stage === 'b' && failingB.has(call.pod.metadata?.labels?.[LABEL_RUNBOOK] ?? '')
          ? {
              phase: 'Failed',
              message: JSON.stringify({ error: { class: 'VALIDATION_ERROR', message: 'bad brief' } }),
            }
          : {
              ...succeed({ said: `${call.stage} ${call.attempt}` }, { tokens: 1234, costUSD: '0.05' }),
              logs: `agent ${call.stage}: working\ndone\n`,
            };
  });
  after(() => env.stop());

  const cluster = () => [`--kubeconfig=${env.plane.adminKubeconfigPath}`, '-n', env.namespace];
  // The CLI as built and installed, not its source.
  const cli = async (...args: string[]) => {
    const run = startCli(args, { built: true });
    return { code: await run.exited, output: run.output() };
  };
  /** What the API server (schema, CEL rules, webhooks) says to creating the file, storing nothing. */
  const serverDryRun = (path: string) =>
    kubectl(env.plane.adminKubeconfigPath, ['-n', env.namespace, 'create', '--dry-run=server', '-f', path]);
  const file = (name: string, object: unknown) => {
    const path = join(scratch, name);
    writeFileSync(path, stringify(object));
    return path;
  };

  describe('offline: validate, convert, diff, optimize, import', () => {
    it('validate passes a valid runbook and fails an invalid one, naming the field and the rule', async () => {
      const good = file('good.yaml', runbook('good', { agents: { pipeline: chain('a', 'b') } }));
      const bad = file(
        'bad.yaml',
        runbook('bad', { agents: { pipeline: [{ name: 'a', dependsOn: ['ghost'] }] } }),
      );
      const passed = await cli('validate', good);
      expect(passed.code, passed.output).to.equal(0);
      expect(passed.output).to.contain(`${good}: AgentRunbook good: valid`);
      const failed = await cli('validate', good, bad);
      expect(failed.code).to.equal(1);
      expect(failed.output).to.contain(
        'bad.yaml: AgentRunbook bad: invalid\n  spec.agents.pipeline: stage a depends on ghost, which is not a stage of this runbook',
      );
    });

    it("validate refuses what the CRD's CEL rules refuse, as the API server does", async () => {
      const path = file('rules.yaml', BROKEN_CEL_RULES);
      const offline = await cli('validate', path);
      expect(offline.code).to.equal(1);
      const server = await serverDryRun(path);
      expect(server.code).to.equal(1);
      for (const message of [
        'environment nope is not defined in spec.environments',
        'retryStrategy ghost is not defined in spec.retryStrategies',
        'perAgent must not exceed total',
        'validation.minLength must not exceed validation.maxLength',
        'a step needs agent unless its action is terminate',
        'a quality gate names in before a stage that is not in spec.agents.pipeline',
      ]) {
        expect(offline.output).to.contain(message);
        expect(server.stderr).to.contain(message);
      }
    });

    it('validate and the API server name a v1 document’s problems at its v1 fields', async () => {
      const legacy = () =>
        parse(readFileSync(join(repoRoot, 'examples', 'v1', 'legacy-layout.yaml'), 'utf8')) as {
          spec: { agents: Record<string, Record<string, unknown>>; quality?: unknown };
        };
      const dangling = legacy();
      (dangling.spec.agents.research ?? {}).config = { inputs: { x: '${nowhere.outputs.x}' } };
      const gated = legacy();
      gated.spec.quality = { gates: [{ name: 'review', before: 'nowhere' }] };
      for (const [name, object, field] of [
        ['dangling', dangling, 'spec.agents.research.config.inputs.x'],
        ['gated', gated, 'a quality gate names in before a stage that is not in spec.agents'],
      ] as const) {
        const path = file(`v1-${name}.yaml`, object);
        const offline = await cli('validate', path);
        expect(offline.code, offline.output).to.equal(1);
        expect(offline.output).to.contain(field).and.not.contain('pipeline');
        const server = await serverDryRun(path);
        expect(server.code, `${name}: ${server.stdout}`).to.equal(1);
        expect(server.stderr).to.contain(field).and.not.contain('pipeline');
      }
    });

    it('validate gives the webhook warnings, and convert goes to v1 and back unchanged', async () => {
      const spec = {
        execution: { mode: 'hybrid' as const, parallelism: 7 },
        agents: { pipeline: chain('a', 'b') },
      };
      const original = file('warned.yaml', runbook('warned', spec));
      const warned = await cli('validate', original);
      expect(warned.code, warned.output).to.equal(0);
      expect(warned.output).to.contain('Warning: ').and.contain('parallelism 7 is more than the 1 stages');
      const v1 = await cli('convert', '--to', 'v1', original);
      expect(v1.code, v1.output).to.equal(0);
      expect(parse(v1.output)).to.deep.include({ apiVersion: 'i2s.studio/v1' });
      const back = await cli('convert', '--to', 'v2', file('v1.yaml', parse(v1.output)));
      expect(parse(back.output)).to.deep.equal(runbook('warned', spec));
    });

    it('diff names the change classes and the bump, failing when spec.version was not bumped enough', async () => {
      const before = file('before.yaml', runbook('d', { agents: { pipeline: chain('a', 'b') } }));
      const after = file('after.yaml', {
        ...runbook('d', { agents: { pipeline: chain('a') } }),
        spec: { version: '1.1.0', execution: { mode: 'hybrid' }, agents: { pipeline: chain('a') } },
      });
      const diffed = await cli('diff', before, after);
      expect(diffed.code).to.equal(1);
      expect(diffed.output).to.contain('breaking  spec.agents.pipeline[b]: removing stage b');
      expect(diffed.output).to.contain(
        'bump: major (1.0.0 -> 2.0.0); spec.version went 1.0.0 -> 1.1.0, a minor bump',
      );
    });

    it('optimize reports the findings, and --write prints a runbook without them', async () => {
      const path = file(
        'slow.yaml',
        runbook('slow', {
          execution: { mode: 'pipeline' },
          agents: { pipeline: [{ name: 'a' }, { name: 'b' }, { name: 'c', dependsOn: ['a', 'b'] }] },
        }),
      );
      const report = await cli('optimize', path);
      expect(report.code, report.output).to.equal(0);
      expect(report.output)
        .to.contain('parallelizable-stages  spec.execution.mode')
        .and.contain('1 findings');
      const written = await cli('optimize', '--write', path);
      const optimized = parse(written.output.slice(written.output.indexOf('apiVersion'))) as { spec: SpecV2 };
      expect(optimized.spec.execution?.mode).to.equal('hybrid');
      const again = await cli('optimize', file('optimized.yaml', optimized));
      expect(again.output).to.equal('nothing to optimize\n');
    });

    it("import makes the specification's YAML blocks one valid runbook, says what it changed, and the API server admits it", async () => {
      const blocks = readdirSync(SPECIFICATION)
        .filter((name) => name.endsWith('.yaml') && name !== 'fallback-workflows.yaml')
        .sort((a, b) => (a === 'metadata.yaml' ? -1 : b === 'metadata.yaml' ? 1 : a.localeCompare(b)))
        .map((name) => join(SPECIFICATION, name));
      const run = startCli(['import', ...blocks], { built: true });
      expect(await run.exited, run.output()).to.equal(0);
      const output = run.output();
      for (const change of [
        'changed: metadata.version: moved to spec.version',
        'changed: metadata.context: moved to spec.context',
        'changed: spec.environments.development.budgets.tokens: 500000 written as tokens.total',
        'changed: spec.budgets.cost.maxUSD: the number 10 written as the decimal string "10.00"',
        'changed: spec.retry_strategies: renamed spec.retryStrategies',
        'changed: spec.agents.core.conductor: moved to spec.agents.conductor',
        'changed: metadata.name: placeholders in "{idea-slug}-runbook" filled in: idea-42-runbook',
      ])
        expect(output).to.contain(change);
      const imported = parse(output.slice(output.indexOf('apiVersion:'))) as { spec: SpecV2 };
      expect(imported.spec.version).to.equal('1.2.3');
      expect(imported.spec.environments?.testing?.budgets?.cost).to.deep.equal({
        maxUSD: '5.00',
        alertThreshold: '4.00',
      });
      const applied = await kubectl(
        env.plane.adminKubeconfigPath,
        ['-n', env.namespace, 'create', '--dry-run=server', '-f', '-'],
        stringify(imported),
      );
      expect(applied.code, applied.stderr).to.equal(0);
    });

    it('import fails, exit code 1, on blocks that cannot make a valid runbook, saying why', async () => {
      const failed = await cli('import', join(SPECIFICATION, 'fallback-workflows.yaml'));
      expect(failed.code).to.equal(1);
      expect(failed.output).to.contain('still not valid').and.contain('spec.workflows.main.steps[0].agent');
    });
  });

  describe('on a running runbook', () => {
    it('watch redraws a live tree on a terminal; approve lets the run finish, and watch exits 0', async () => {
      await env.apply(
        runbook('gated', {
          agents: { pipeline: chain('a', 'b') },
          quality: { gates: [{ name: 'signoff', required: true, before: 'b' }] },
        }),
      );
      const watch = startCli(['watch', 'gated', ...cluster()], { terminal: true, built: true });
      await watch.waitForOutput('WaitingForApproval');
      const wrong = await cli('approve', 'gated', 'nope', ...cluster());
      expect(wrong.code).to.equal(1);
      expect(wrong.output).to.contain(
        `agentrunbook ${env.namespace}/gated has no gate nope (its gates: signoff)`,
      );
      const approved = await cli('approve', 'gated', 'signoff', '-m', 'ship it', ...cluster());
      expect(approved.output).to.match(
        /^gatedecision\.i2s\.studio\/gated-signoff-\w{5}: gate signoff of gated approved\n$/,
      );
      expect(await watch.exited, watch.output()).to.equal(0);
      const screen = watch.output();
      expect(screen).to.contain('\x1b[H\x1b[2J');
      const last = screen.slice(screen.lastIndexOf('\x1b[2J'));
      expect(last).to.match(/Phase: +Succeeded +\(2\/2 stages\)/);
      expect(last).to.match(/└─ ✔ b +Succeeded +1 +\S+ +1,234 +\$0\.05/);
      expect(last).to.match(/signoff +Approved +kubernetes-admin|signoff +Approved/);
    });

    it('get prints the tree, -o json the object; a runbook that does not exist exits 1', async () => {
      const tree = await cli('get', 'gated', ...cluster());
      expect(tree.code, tree.output).to.equal(0);
      expect(tree.output).to.match(/Usage: +2,468 tokens, \$0\.10/);
      expect(tree.output).to.match(/├─ ✔ a +Succeeded/);
      const json = await cli('get', 'gated', '-o', 'json', ...cluster());
      expect((JSON.parse(json.output) as { status: { phase: string } }).status.phase).to.equal('Succeeded');
      const missing = await cli('get', 'ghost', ...cluster());
      expect(missing.code).to.equal(1);
      expect(missing.output).to.contain(`agentrunbook ghost not found in namespace ${env.namespace}`);
    });

    it("logs prints each stage's agent output, prefixed with stage and attempt, as the node serves it", async () => {
      const all = await cli('logs', 'gated', ...cluster());
      expect(all.code, all.output).to.equal(0);
      expect(all.output).to.equal('[a/1] agent a: working\n[a/1] done\n[b/1] agent b: working\n[b/1] done\n');
      const one = await cli('logs', 'gated', '--stage', 'b', ...cluster());
      expect(one.output).to.equal('[b/1] agent b: working\n[b/1] done\n');
      const wrong = await cli('logs', 'gated', '--stage', 'nope', ...cluster());
      expect(wrong.code).to.equal(1);
      expect(wrong.output).to.contain('runbook gated has no stage nope (its stages: a, b)');
    });

    it('logs -f follows a running agent until it ends', async () => {
      await env.apply(runbook('followed', { agents: { pipeline: [{ name: 'slow', agent: 'slow' }] } }));
      await env.waitPhase('followed', 'Running');
      await env.node.waitFor(() => env.held('followed').length === 1, 30_000, 'the slow agent');
      const follow = startCli(['logs', 'followed', '-f', ...cluster()], { built: true });
      const [held] = env.held('followed');
      // The log stream is open before the agent ends: the node answers it only then.
      await eventually(() =>
        Promise.resolve().then(() => {
          expect(env.node.followedLogs()).to.equal(1);
        }),
      );
      await env.node.finish(held ?? '', {
        phase: 'Succeeded',
        message: JSON.stringify({ outputs: {}, usage: { tokens: 1, costUSD: '0.01' } }),
        logs: 'slow agent: finally\n',
      });
      expect(await follow.exited, follow.output()).to.equal(0);
      expect(follow.output()).to.equal('[slow/1] slow agent: finally\n');
      await env.waitPhase('followed', 'Succeeded');
    });

    it('reject fails the run at its gate', async () => {
      await env.apply(
        runbook('refused', {
          agents: { pipeline: chain('a', 'b') },
          quality: { gates: [{ name: 'signoff', required: true, before: 'b' }] },
        }),
      );
      await env.waitPhase('refused', 'WaitingForApproval');
      const rejected = await cli('reject', 'refused', 'signoff', ...cluster());
      expect(rejected.code, rejected.output).to.equal(0);
      await env.waitPhase('refused', 'Failed');
    });

    it('watch and wait exit 2 on a run that failed, wait 0 on one that succeeded and 3 at its timeout', async () => {
      const watched = await cli('watch', 'refused', '-o', 'json', ...cluster());
      expect(watched.code, watched.output).to.equal(2);
      const failed = await cli('wait', 'refused', ...cluster());
      expect(failed.code, failed.output).to.equal(2);
      expect(failed.output).to.contain(
        'agentrunbook.i2s.studio/refused finished Failed without phase Succeeded',
      );
      const succeeded = await cli('wait', 'gated', '--for=phase=Succeeded', ...cluster());
      expect(succeeded.code, succeeded.output).to.equal(0);
      expect(succeeded.output).to.equal('agentrunbook.i2s.studio/gated phase Succeeded met\n');
      await env.apply(
        runbook('parked', {
          agents: { pipeline: chain('a', 'b') },
          quality: { gates: [{ name: 'signoff', required: true, before: 'b' }] },
        }),
      );
      const waiting = await cli(
        'wait',
        'parked',
        '--for',
        'phase=WaitingForApproval',
        '--timeout',
        '60s',
        ...cluster(),
      );
      expect(waiting.code, waiting.output).to.equal(0);
      const timedOut = await cli('wait', 'parked', '--timeout', '1s', ...cluster());
      expect(timedOut.code, timedOut.output).to.equal(3);
      expect(timedOut.output).to.contain('timed out waiting for phase Succeeded');
      const bad = await cli('wait', 'parked', '--for', 'phase=Done', ...cluster());
      expect(bad.code).to.equal(1);
      expect(bad.output).to.contain('phase=<Queued|Pending|Running');
    });

    it('list: -A, -l, --field-selector on status.phase, and -o wide, name and json', async () => {
      await env.k('label', 'agentrunbook', 'gated', 'team=search');
      const table = await cli('list', ...cluster());
      expect(table.code, table.output).to.equal(0);
      const header = table.output.split('\n')[0]?.split(/\s+/);
      expect(header).to.deep.equal(['NAME', 'PHASE', 'PROGRESS', 'AGE', 'DURATION', 'TOKENS', 'COST']);
      expect(table.output, table.output).to.match(/\ngated +Succeeded +2\/2 +\S+ +\S+ +2468 +\$0\.10\b/);
      const everywhere = await cli('list', '-A', ...cluster());
      expect(everywhere.output).to.match(new RegExp(`\\n${env.namespace} +gated +Succeeded`));
      const labelled = await cli('list', '-l', 'team=search', '-o', 'name', ...cluster());
      expect(labelled.output).to.equal('agentrunbook.i2s.studio/gated\n');
      const failed = await cli('list', '--field-selector', 'status.phase=Failed', '-o', 'name', ...cluster());
      expect(failed.output).to.equal('agentrunbook.i2s.studio/refused\n');
      const wide = await cli('list', '-o', 'wide', '--field-selector', 'status.phase=Failed', ...cluster());
      expect(wide.output).to.match(/REASON +MESSAGE\n/);
      expect(wide.output).to.match(/refused +Failed .* GateRejected +/);
      const json = JSON.parse((await cli('list', '-o', 'json', ...cluster())).output) as {
        kind: string;
        items: { metadata: { name: string } }[];
      };
      expect(json.kind).to.equal('AgentRunbookList');
      expect(json.items.map((item) => item.metadata.name)).to.include.members(['gated', 'refused', 'parked']);
    });

    it('describe tells the story; suspend, resume and delete change the runbook', async () => {
      const suspended = async () =>
        (
          JSON.parse((await env.k('get', 'arb', 'parked', '-o', 'json')).stdout) as {
            spec: { suspend?: boolean };
          }
        ).spec.suspend;
      const described = await cli('describe', 'gated', ...cluster());
      expect(described.code, described.output).to.equal(0);
      expect(described.output).to.match(/Conditions:\nTYPE +STATUS +REASON +MESSAGE\nReady +True +Succeeded/);
      expect(described.output).to.match(/Events:\nTYPE +REASON +AGE +MESSAGE\n(.*\n)*Normal +RunStarted/);
      expect((await cli('suspend', 'parked', ...cluster())).output).to.equal(
        'agentrunbook.i2s.studio/parked suspended\n',
      );
      expect(await suspended()).to.equal(true);
      await cli('resume', 'parked', ...cluster());
      expect(await suspended()).to.equal(undefined);
      const deleted = await cli('delete', 'parked', ...cluster());
      expect(deleted.output).to.equal('agentrunbook.i2s.studio "parked" deleted\n');
      const gone = await cli('get', 'parked', ...cluster());
      expect(gone.code).to.equal(1);
    });

    it('takes kubectl’s --as and --as-group, and the API server judges the impersonated user', async () => {
      const refused = await cli('list', '--as', 'nobody', ...cluster());
      expect(refused.code).to.equal(1);
      expect(refused.output).to.contain('forbidden');
      expect(refused.output).to.contain('nobody');
      const admitted = await cli(
        'list',
        '--as',
        'nobody',
        '--as-group',
        'system:masters',
        '-o',
        'name',
        ...cluster(),
      );
      expect(admitted.code, admitted.output).to.equal(0);
      expect(admitted.output).to.contain('agentrunbook.i2s.studio/gated');
    });

    it('logs -f follows later attempts and stages until the run finishes', async () => {
      await env.apply(
        runbook('relay', {
          agents: {
            pipeline: [
              { name: 'slow', agent: 'slow' },
              { name: 'b', dependsOn: ['slow'] },
            ],
          },
        }),
      );
      await env.node.waitFor(() => env.held('relay').length === 1, 30_000, 'the slow agent');
      const follow = startCli(['logs', 'relay', '-f', ...cluster()], { built: true });
      const [held] = env.held('relay');
      await env.node.finish(held ?? '', {
        phase: 'Succeeded',
        message: JSON.stringify({ outputs: {}, usage: { tokens: 1, costUSD: '0.01' } }),
        logs: 'slow agent: handing over\n',
      });
      expect(await follow.exited, follow.output()).to.equal(0);
      expect(follow.output()).to.contain('[slow/1] slow agent: handing over\n');
      expect(follow.output()).to.contain('[b/1] agent b: working\n[b/1] done\n');
      expect((await env.status('relay')).phase).to.equal('Succeeded');
    });

    it('cancel stops a run, rerun starts it again', async () => {
      await env.apply(runbook('long', { agents: { pipeline: [{ name: 'slow', agent: 'slow' }] } }));
      await env.waitPhase('long', 'Running');
      const first = (await env.status('long')).execution;
      const cancelled = await cli('cancel', 'long', ...cluster());
      expect(cancelled.output).to.equal('agentrunbook.i2s.studio/long cancelled\n');
      await env.waitPhase('long', 'Cancelled');
      const rerun = await cli('rerun', 'long', ...cluster());
      expect(rerun.output).to.equal('agentrunbook.i2s.studio/long rerun\n');
      await env.waitPhase('long', 'Running');
      expect((await env.status('long')).execution).to.not.equal(first);
      await cli('cancel', 'long', ...cluster());
      await env.waitPhase('long', 'Cancelled');
    });

    it('retry runs the failed stage and those after it again, keeping the stages that succeeded', async () => {
      failingB.add('flaky');
      await env.apply(runbook('flaky', { agents: { pipeline: chain('a', 'b', 'c') } }));
      const failed = await cli('wait', 'flaky', '--timeout', '60s', ...cluster());
      expect(failed.code, failed.output).to.equal(2);
      const notFailed = await cli('retry', 'gated', ...cluster());
      expect(notFailed.code).to.equal(1);
      expect(notFailed.output).to.contain('runbook gated is Succeeded: only a run that ended Failed');
      const before = await env.status('flaky');
      failingB.delete('flaky');
      const retried = await cli('retry', 'flaky', ...cluster());
      expect(retried.output).to.equal('agentrunbook.i2s.studio/flaky retried\n');
      const done = await cli('wait', 'flaky', '--timeout', '60s', ...cluster());
      expect(done.code, done.output).to.equal(0);
      const after = await env.status('flaky');
      expect(after.execution).to.not.equal(before.execution);
      const stageA = (status: typeof after) => status.stages.find((stage) => stage.name === 'a');
      expect(stageA(after)).to.deep.equal(stageA(before));
      const ran = env.calls
        .filter((call) => call.pod.metadata?.labels?.[LABEL_RUNBOOK] === 'flaky')
        .map((call) => call.stage);
      expect(ran).to.deep.equal(['a', 'b', 'b', 'c']);
    });
  });

  describe('history and rollback', () => {
    const revisions = async () => {
      const listed = await env.k(
        'get',
        'controllerrevisions',
        '-l',
        'i2s.studio/runbook=versioned',
        '-o',
        'json',
      );
      return (
        JSON.parse(listed.stdout) as {
          items: {
            metadata: { labels: Record<string, string>; ownerReferences: { kind: string }[] };
            revision: number;
          }[];
        }
      ).items;
    };
    const revisionNumber = async () => {
      const { revision } = (await env.status('versioned')) as { revision?: { number: number } };
      return revision?.number;
    };

    it('keeps one revision 1 for a new runbook, even when the status that named it was lost', async () => {
      await env.apply(runbook('first-revision', { agents: { pipeline: chain('a') } }));
      const number = async () =>
        ((await env.status('first-revision')) as { revision?: { number: number } }).revision?.number;
      await eventually(async () => expect(await number()).to.equal(1));
      // As if the reconcile that made revision 1 had lost its status write.
      const lost = await env.k(
        'patch',
        'arb',
        'first-revision',
        '--subresource=status',
        '--type=json',
        '-p',
        '[{"op":"remove","path":"/status/revision"}]',
      );
      expect(lost.code, lost.stderr).to.equal(0);
      await eventually(async () => expect(await number()).to.equal(1));
      const listed = await env.k(
        'get',
        'controllerrevisions',
        '-l',
        'i2s.studio/runbook=first-revision',
        '-o',
        'name',
      );
      expect(listed.stdout.trim().split('\n')).to.have.length(1);
    });

    it('keeps each of three spec changes as a revision with its bump, and rolls back to one', async () => {
      await env.apply(runbook('versioned', { agents: { pipeline: chain('a', 'b') } }));
      await eventually(async () => expect(await revisionNumber()).to.equal(1));
      // Text JSON escapes differently in Go and JavaScript (>, &, <), and keys out of order: the
      // revision that a rollback takes back must still be renumbered (issue 25).
      await env.apply({
        ...runbook('versioned', { agents: { pipeline: chain('a', 'b', 'c') } }),
        spec: {
          version: '1.1.0',
          description: 'runs when load > 0.9 & <nothing> else',
          context: { title: 'Load shedding', ideaText: 'Shed load early' },
          execution: { mode: 'hybrid' },
          agents: { pipeline: chain('a', 'b', 'c') },
        },
      });
      await eventually(async () => expect(await revisionNumber()).to.equal(2));
      await env.apply({
        ...runbook('versioned', { agents: { pipeline: chain('a', 'c') } }),
        spec: { version: '2.0.0', execution: { mode: 'hybrid' }, agents: { pipeline: chain('a', 'c') } },
      });
      await eventually(async () => expect(await revisionNumber()).to.equal(3));
      const owned = await revisions();
      expect(owned.map((revision) => revision.metadata.labels['i2s.studio/bump'])).to.have.members([
        'none',
        'minor',
        'major',
      ]);
      expect(
        owned.every((revision) => revision.metadata.ownerReferences[0]?.kind === 'AgentRunbook'),
      ).to.equal(true);

      const history = await cli('history', 'versioned', ...cluster());
      expect(history.code, history.output).to.equal(0);
      const rows = history.output.trim().split('\n').slice(1);
      expect(rows.map((row) => row.split(/\s+/).filter(Boolean).slice(0, 3))).to.deep.equal([
        ['1', '1.0.0', 'none'],
        ['2', '1.1.0', 'minor'],
        ['*3', '2.0.0', 'major'],
      ]);
      expect(rows[2]).to.contain('breaking: removing stage b');

      const rolled = await cli('rollback', 'versioned', '--to', '1.1.0', ...cluster());
      expect(rolled.output).to.equal(
        'agentrunbook.i2s.studio/versioned rolled back to revision 2 (version 1.1.0)\n',
      );
      await eventually(async () => expect(await revisionNumber()).to.equal(4));
      const spec = (
        JSON.parse((await env.k('get', 'agentrunbook', 'versioned', '-o', 'json')).stdout) as { spec: SpecV2 }
      ).spec;
      expect(spec.version).to.equal('1.1.0');
      expect(spec.agents.pipeline?.map((stage) => stage.name)).to.deep.equal(['a', 'b', 'c']);
      // The old revision is reused under the next number, as StatefulSets do: no fourth object.
      expect((await revisions()).map((revision) => revision.revision).sort()).to.deep.equal([1, 3, 4]);
      await env.waitPhase('versioned', 'Succeeded');
    });

    it('keeps no more than spec.revisionHistoryLimit revisions', async () => {
      await env.apply({
        ...runbook('versioned', { agents: { pipeline: chain('a') } }),
        spec: {
          version: '3.0.0',
          revisionHistoryLimit: 2,
          execution: { mode: 'hybrid' },
          agents: { pipeline: chain('a') },
        },
      });
      await eventually(async () =>
        expect((await revisions()).map((revision) => revision.revision).sort()).to.deep.equal([4, 5]),
      );
      const missing = await cli('rollback', 'versioned', '--to', '1', ...cluster());
      expect(missing.code).to.equal(1);
      expect(missing.output).to.contain('no revision 1; the revisions kept are 4 (1.1.0), 5 (3.0.0)');
    });
  });

  describe('as a kubectl plugin, and its shell completion', () => {
    it('kubectl agentrunbook runs the CLI when kubectl-agentrunbook is on PATH', () => {
      const bin = mkdtempSync(join(tmpdir(), 'kubectl-plugin-'));
      // As npm installs it: kubectl-agentrunbook, a link to the built main.js.
      symlinkSync(builtCli(), join(bin, 'kubectl-agentrunbook'));
      // kubectl finds plugins on PATH, and takes no flags before the plugin's name.
      const viaKubectl = (...args: string[]) =>
        execFileSync(layerBinary('kubectl'), ['agentrunbook', ...args], {
          encoding: 'utf8',
          env: { ...process.env, PATH: `${bin}:${dirname(process.execPath)}:${process.env.PATH ?? ''}` },
        });
      expect(viaKubectl('get', 'gated', ...cluster())).to.match(/Name: +gated/);
      expect(viaKubectl('--help')).to.contain('Usage: kubectl agentrunbook');
    });

    it('completes in bash, zsh and fish, and kubectl agentrunbook through kubectl_complete-agentrunbook', () => {
      const bin = mkdtempSync(join(tmpdir(), 'completion-'));
      for (const name of ['agentrunbook', 'kubectl-agentrunbook', 'kubectl_complete-agentrunbook'])
        symlinkSync(builtCli(), join(bin, name));
      const env_ = {
        ...process.env,
        KUBECONFIG: env.plane.adminKubeconfigPath,
        PATH: `${bin}:${dirname(process.execPath)}:${dirname(layerBinary('kubectl'))}:${process.env.PATH ?? ''}`,
      };
      const script = (shell: string) => {
        const path = join(scratch, `completion.${shell}`);
        writeFileSync(path, execFileSync(join(bin, 'agentrunbook'), ['completion', shell], { env: env_ }));
        return path;
      };
      const bash = script('bash');
      const run = (shell: string, code: string) =>
        execFileSync(shell, ['-c', code], { encoding: 'utf8', env: env_ });
      const complete = (words: string) =>
        run(
          'bash',
          `source ${bash}; COMP_WORDS=(${words}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 )); _agentrunbook; echo "\${COMPREPLY[*]}"`,
        );
      expect(complete('agentrunbook hi')).to.equal('history\n');
      expect(complete('agentrunbook logs --fo')).to.equal('--follow\n');
      expect(complete(`agentrunbook approve -n ${env.namespace} gated ''`)).to.equal('signoff\n');
      expect(complete(`agentrunbook get -n ${env.namespace} gat`)).to.equal('gated\n');
      // zsh: the script registers itself with compinit; compadd (a function here) shows what it offers.
      const zsh = script('zsh');
      expect(
        run(
          'zsh',
          `autoload -U compinit && compinit -u -D; source ${zsh}; print -r -- $_comps[kubectl-agentrunbook]; compadd() { [[ $1 == -- ]] && shift; print -r -- "$@"; }; words=(agentrunbook wa); CURRENT=2; _agentrunbook`,
        ),
      ).to.equal('_agentrunbook\nwait watch\n');
      const fish = script('fish');
      expect(run('fish', `source ${fish}; complete -C 'agentrunbook get -n ${env.namespace} gat'`)).to.equal(
        'gated\n',
      );
      // kubectl itself asks the plugin's completer (kubectl's own __complete shows what a shell gets).
      const viaKubectl = execFileSync(
        layerBinary('kubectl'),
        ['__complete', 'agentrunbook', 'get', '-n', env.namespace, 'gat'],
        {
          encoding: 'utf8',
          env: env_,
        },
      );
      expect(viaKubectl.split('\n').slice(0, 2)).to.deep.equal(['gated', ':4']);
    });
  });
});
