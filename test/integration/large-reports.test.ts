import { createHash } from 'node:crypto';
import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PodResult } from '../../hack/local-cluster/fake-node.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { ENV } from '../../src/api/agent-contract.js';
import { LABEL_RUNBOOK } from '../../src/api/labels.js';
import { writeReport } from '../../src/agent/sdk.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = {
  agents: ['writer', 'reader'].map((name) => ({ name, image: `registry.example/agents/${name}:1.0.0` })),
};

/** What a container running the SDK leaves behind: its termination message and its log. */
function agentResult(outputs: Record<string, unknown>, chatter = 'agent: thinking hard'): PodResult {
  const reportPath = join(mkdtempSync(join(tmpdir(), 'large-report-')), 'termination-log');
  const lines: string[] = [chatter];
  writeReport({ outputs, usage: { tokens: 5, costUSD: '0.01' } }, { [ENV.reportPath]: reportPath }, (line) =>
    lines.push(line),
  );
  return {
    phase: 'Succeeded',
    message: readFileSync(reportPath, 'utf8'),
    logs: `${lines.join('\n')}\nagent: done\n`,
  };
}

describe('reports larger than the termination message, read from the agent log through the API server, and outputs kept outside the status', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('large', CATALOG);
  before(() => env.start());
  after(() => env.stop());

  it('a 1 MiB output flows from one stage to the next through a ConfigMap and the next Pod’s files', async () => {
    const answer = 'a'.repeat(1024 * 1024 - 2);
    env.script = (call) => (call.stage === 'write' ? agentResult({ answer }) : succeed({ length: 1 }));
    await env.apply(
      runbook('large', 'pipeline', [
        { name: 'write', agent: 'writer', config: { outputs: { answer: 'string' } } },
        {
          name: 'read',
          agent: 'reader',
          config: { inputs: { text: '${write.outputs.answer}', note: '${context.title}' } },
        },
      ]),
    );
    await env.waitPhase('large', 'Succeeded');
    const read = env.calls.find((call) => call.namespace === env.namespace && call.stage === 'read');
    expect(read?.inputs.text).to.equal(answer);
    expect(read?.inputs.note).to.equal('AI Task Manager');
    // Small values still travel in the environment; the large one only as a file.
    const container = read?.pod.spec?.containers[0];
    expect(container?.env?.find((variable) => variable.name === ENV.inputs)?.value).to.equal(
      JSON.stringify({ note: 'AI Task Manager', text: { $file: 'outputs/write/answer' } }),
    );

    const status = (await env.status('large')) as {
      usage?: unknown;
      stages: {
        name: string;
        job?: string;
        outputs?: unknown;
        outputRefs?: Record<string, Record<string, unknown>>;
      }[];
    };
    const write = status.stages.find((stage) => stage.name === 'write');
    expect(write?.outputs).to.deep.equal({});
    expect(write?.outputRefs?.answer).to.deep.equal({
      configMap: `${write?.job ?? ''}-outputs`,
      key: 'answer',
      bytes: 1024 * 1024,
      preview: 'a'.repeat(200),
      // The sha256 of the output as JSON: what later stages' cache keys hold.
      digest: `sha256:${createHash('sha256').update(JSON.stringify(answer)).digest('hex')}`,
    });
    // Usage comes from the termination message: 5 tokens from the writer, 100 from the reader.
    expect(status.usage).to.deep.equal({ tokens: 105, costUSD: '0.02' });

    const stored = JSON.parse(
      (await env.k('get', 'configmap', `${write?.job ?? ''}-outputs`, '-o', 'json')).stdout,
    ) as {
      immutable: boolean;
      data: Record<string, string>;
      metadata: { ownerReferences: { kind: string; name: string }[] };
    };
    expect(stored.immutable).to.equal(true);
    expect(stored.data.answer).to.equal(JSON.stringify(answer));
    expect(stored.metadata.ownerReferences.map((owner) => `${owner.kind}/${owner.name}`)).to.deep.equal([
      'AgentRunbook/large',
    ]);

    // A new run deletes the outputs of the run before, which its status no longer names.
    const rerun = await env.k('annotate', '--overwrite', 'arb', 'large', 'i2s.studio/rerun=second');
    expect(rerun.code, rerun.stderr).to.equal(0);
    const gone = await env.k(
      'wait',
      '--for=delete',
      '--timeout=60s',
      'configmap',
      `${write?.job ?? ''}-outputs`,
    );
    expect(gone.code, gone.stderr).to.equal(0);
    await env.waitPhase('large', 'Succeeded');
  });

  it('a retry keeps the ConfigMap of a kept stage’s output, and the retried stage reads it', async () => {
    const answer = 'k'.repeat(64 * 1024);
    let readFails = true;
    env.script = (call) =>
      call.stage === 'write'
        ? agentResult({ answer })
        : readFails
          ? {
              phase: 'Failed',
              message: JSON.stringify({ error: { class: 'VALIDATION_ERROR', message: 'no' } }),
            }
          : succeed({ length: (call.inputs.text as string).length });
    await env.apply(
      runbook('kept', 'pipeline', [
        { name: 'write', agent: 'writer', config: { outputs: { answer: 'string' } } },
        { name: 'read', agent: 'reader', config: { inputs: { text: '${write.outputs.answer}' } } },
      ]),
    );
    await env.waitPhase('kept', 'Failed');
    const failed = (await env.status('kept')) as {
      execution: string;
      stages: { name: string; job?: string }[];
    };
    const stored = `${failed.stages.find((stage) => stage.name === 'write')?.job ?? ''}-outputs`;
    readFails = false;
    const retry = await env.k('annotate', 'arb', 'kept', `i2s.studio/retry=${failed.execution}`);
    expect(retry.code, retry.stderr).to.equal(0);
    await env.waitPhase('kept', 'Succeeded');
    const ofKept = (stage: string) =>
      env.calls.filter(
        (call) => call.pod.metadata?.labels?.[LABEL_RUNBOOK] === 'kept' && call.stage === stage,
      );
    expect(ofKept('read').map((call) => call.inputs.text)).to.deep.equal([answer, answer]);
    // The retry did not run write again.
    expect(ofKept('write')).to.have.length(1);
    const kept = await env.k('get', 'configmap', stored, '-o', 'name');
    expect(kept.code, kept.stderr).to.equal(0);
  });

  it('finds the report after 6 MiB of chatter on one line, which it skips without keeping', async () => {
    const answer = 'f'.repeat(8 * 1024);
    env.script = () => agentResult({ answer }, 'z'.repeat(6 * 1024 * 1024));
    await env.apply(
      runbook('chatty', 'pipeline', [
        { name: 'write', agent: 'writer', config: { outputs: { answer: 'string' } } },
      ]),
    );
    await env.waitPhase('chatty', 'Succeeded');
    const status = (await env.status('chatty')) as {
      stages: { outputRefs?: Record<string, { bytes: number }> }[];
    };
    expect(status.stages[0]?.outputRefs?.answer?.bytes).to.equal(8 * 1024 + 2);
  });

  it('outputs over the limit fail their stage, naming their size and the limit', async () => {
    env.script = () => agentResult({ answer: 'b'.repeat(1024 * 1024 - 1) });
    await env.apply(runbook('too-large', 'pipeline', [{ name: 'write', agent: 'writer' }]));
    await env.waitPhase('too-large', 'Failed');
    const status = (await env.status('too-large')) as {
      usage?: unknown;
      stages: { reason?: string; message?: string }[];
    };
    expect(status.stages[0]).to.deep.include({
      reason: 'OutputsTooLarge',
      message: "the stage's outputs are 1048577 bytes as JSON, over the limit of 1048576 bytes",
    });
    // Usage comes from the termination message, so it counts even when the outputs cannot.
    expect(status.usage).to.deep.equal({ tokens: 5, costUSD: '0.01' });
  });
});
