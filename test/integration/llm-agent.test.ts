import { expect } from 'chai';
import { runAgentPod } from '../../hack/local-cluster/agent-runner.js';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { completion, OpenAiServer } from '../support/openai-server.js';
import { agentPython, PYTHON_AGENT_ENV, PYTHON_LLM_AGENT } from '../support/python-agents.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';

describe('the reference LLM agent as a stage, its endpoint and key from the catalog', function () {
  this.timeout(180_000);
  const server = new OpenAiServer();
  const env: RunbookEnv = new RunbookEnv(
    'llm',
    { agents: [] },
    {
      // The researcher's Pods run the LLM agent's program, as its image would; the rest follow the script.
      scenario: (pod, given) => {
        if (given.env.AGENT_NAME === 'researcher') return runAgentPod(pod, given, { program: 'llm-main.ts' });
        // The Python researcher's Pods run the Python LLM agent, as its image would.
        if (given.env.AGENT_NAME === 'py-researcher')
          return runAgentPod(pod, given, {
            command: [agentPython(), PYTHON_LLM_AGENT],
            env: PYTHON_AGENT_ENV,
          });
        return env.scripted(pod, given);
      },
    },
  );

  before(async () => {
    const baseURL = await server.start();
    env.catalog = {
      agents: [
        {
          name: 'researcher',
          image: 'ghcr.io/i2s-studio/agentrunbook-llm-agent:0.1.0',
          llm: { baseURL, model: 'gpt-local' },
          secretEnv: { LLM_API_KEY: { secret: 'llm-key', key: 'api-key' } },
        },
        {
          name: 'py-researcher',
          image: 'ghcr.io/i2s-studio/agentrunbook-python-llm-agent:0.1.0',
          llm: { baseURL, model: 'gpt-local' },
          secretEnv: { LLM_API_KEY: { secret: 'llm-key', key: 'api-key' } },
        },
        { name: 'reader', image: 'registry.example/agents/reader:1.0.0' },
      ],
      prices: { 'gpt-local': { inputPerMillionTokens: '2.50', outputPerMillionTokens: '10.00' } },
    } satisfies AgentCatalog;
    await env.start();
    await env.apply({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'llm-key' },
      stringData: { 'api-key': 'sk-local' },
    });
  });
  after(async () => {
    await env.stop();
    await server.stop();
  });

  it('a 200 KiB answer flows to the next stage, with the tokens and cost the endpoint counted', async () => {
    const answer = `# Competitors\n${'acme builds task boards; '.repeat((200 * 1024) / 25)}`;
    server.reply = () => completion(answer, { prompt_tokens: 2000, completion_tokens: 60_000 });
    await env.apply(
      runbook(
        'market',
        'pipeline',
        [
          {
            name: 'research',
            agent: 'researcher',
            config: {
              inputs: { idea: '${context.title}' },
              parameters: { prompt: 'List the competitors.' },
              outputs: { competitors: 'string' },
            },
          },
          { name: 'read', agent: 'reader', config: { inputs: { text: '${research.outputs.competitors}' } } },
        ],
        { budgets: { tokens: { perAgent: 100_000 } } },
      ),
    );
    await env.waitPhase('market', 'Succeeded');
    const request = server.requests.at(-1);
    expect(request?.authorization).to.equal('Bearer sk-local');
    expect(request?.body.messages[1]?.content)
      .to.include('List the competitors.')
      .and.include('AI Task Manager');
    expect(request?.body.max_tokens).to.be.a('number').and.be.below(100_000);
    const read = env.calls.find((call) => call.stage === 'read');
    expect(read?.inputs.text).to.equal(answer);
    const status = (await env.status('market')) as { stages: { name: string; usage?: unknown }[] };
    // 2000 × $2.50/M + 60 000 × $10/M = $0.605
    expect(status.stages.find((stage) => stage.name === 'research')?.usage).to.deep.equal({
      tokens: 62_000,
      costUSD: '0.605',
    });
  });

  it('the Python LLM agent (openai client): a 200 KiB answer flows to the next stage, with its usage', async () => {
    const answer = `# Competitors\n${'zeta ships agent queues; '.repeat((200 * 1024) / 25)}`;
    server.reply = () => completion(answer, { prompt_tokens: 1000, completion_tokens: 50_000 });
    await env.apply(
      runbook(
        'py-market',
        'pipeline',
        [
          {
            name: 'research',
            agent: 'py-researcher',
            config: {
              inputs: { idea: '${context.title}' },
              parameters: { prompt: 'List the competitors in Python.' },
              outputs: { competitors: 'string' },
            },
          },
          { name: 'read', agent: 'reader', config: { inputs: { text: '${research.outputs.competitors}' } } },
        ],
        { budgets: { tokens: { perAgent: 100_000 } } },
      ),
    );
    await env.waitPhase('py-market', 'Succeeded');
    const request = server.requests.at(-1);
    expect(request?.authorization).to.equal('Bearer sk-local');
    expect(request?.body.messages[1]?.content).to.include('List the competitors in Python.');
    const read = env.calls.find(
      (call) => call.stage === 'read' && call.pod.metadata?.labels?.['i2s.studio/runbook'] === 'py-market',
    );
    expect(read?.inputs.text).to.equal(answer);
    const status = (await env.status('py-market')) as { stages: { name: string; usage?: unknown }[] };
    // 1000 × $2.50/M + 50 000 × $10/M = $0.5025
    expect(status.stages.find((stage) => stage.name === 'research')?.usage).to.deep.equal({
      tokens: 51_000,
      costUSD: '0.5025',
    });
  });

  it('a 429 fails the stage with RATE_LIMIT, which its retry strategy retries', async () => {
    let calls = 0;
    server.reply = () => {
      calls += 1;
      return calls === 1 ? { status: 429, body: { error: { message: 'slow down' } } } : completion('fine');
    };
    await env.apply(
      runbook('limited', 'pipeline', [
        { name: 'research', agent: 'researcher', config: { retries: 1, outputs: { note: 'string' } } },
      ]),
    );
    await env.waitPhase('limited', 'Succeeded');
    const status = (await env.status('limited')) as { stages: { attempt?: number; outputs?: unknown }[] };
    expect(status.stages[0]).to.deep.include({ attempt: 2, outputs: { note: 'fine' } });
    expect(await env.eventCount('limited', 'StageRetrying')).to.equal(1);
  });
});
