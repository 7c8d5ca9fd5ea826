/**
 * What every reference LLM agent does, whatever its language: the same cases against the local
 * OpenAI-compatible endpoint, for the TypeScript agent in-process and the Python one as a process.
 */
import { expect } from 'chai';
import type { ParsedReport } from '../../src/engine/stage/agent-report.js';
import { completion, OpenAiServer } from './openai-server.js';

export const PRICE = { inputPerMillionTokens: '0.15', outputPerMillionTokens: '0.60' };

/** Runs the agent for one stage with this environment: its exit code, report as the engine reads it, and log. */
export type LlmAgentRunner = (
  env: Record<string, string>,
) => Promise<{ code: number | null; parsed: ParsedReport; log: string }>;

export function describeLlmAgent(
  title: string,
  runAgent: LlmAgentRunner,
  setUp: () => void = () => undefined,
) {
  describe(title, function () {
    this.timeout(60_000);
    const server = new OpenAiServer();
    let baseURL = '';
    before(async () => {
      setUp();
      baseURL = await server.start();
    });
    after(() => server.stop());

    const run = (extra: Record<string, string> = {}, settings: Record<string, unknown> = {}) =>
      runAgent({
        AGENT_STAGE: 'research',
        AGENT_NAME: 'researcher',
        AGENT_RUNBOOK: 'market',
        AGENT_INPUTS: JSON.stringify({ idea: 'a task manager for AI teams' }),
        AGENT_PARAMETERS: JSON.stringify({ prompt: 'Research the market.', region: 'EU' }),
        AGENT_OUTPUTS: JSON.stringify({ market_research: 'string', competitors: 'array' }),
        AGENT_BUDGET: JSON.stringify({ tokens: 5000, costUSD: '1.00' }),
        AGENT_LLM: JSON.stringify({ baseURL, model: 'gpt-test', price: PRICE, ...settings }),
        LLM_API_KEY: 'sk-test',
        ...extra,
      });
    const reportOf = (parsed: ParsedReport) => {
      if (!('report' in parsed)) throw new Error(parsed.problem.message);
      return parsed.report;
    };

    it('asks the model with the stage’s prompt, inputs and parameters, and reports its outputs, tokens and cost', async () => {
      server.reply = () =>
        completion(JSON.stringify({ market_research: 'growing fast', competitors: ['A', 'B'] }), {
          prompt_tokens: 1000,
          completion_tokens: 500,
        });
      const { code, parsed, log } = await run();
      expect(code, log).to.equal(0);
      const report = reportOf(parsed);
      expect(report.outputs).to.deep.equal({ market_research: 'growing fast', competitors: ['A', 'B'] });
      expect(report.tokens).to.equal(1500);
      // 1000 × $0.15/M + 500 × $0.60/M = $0.00045
      expect(report.costMicros).to.equal(450);
      const request = server.requests.at(-1);
      expect(request?.authorization).to.equal('Bearer sk-test');
      expect(request?.body.model).to.equal('gpt-test');
      const [system, user] = request?.body.messages ?? [];
      expect(system?.content)
        .to.include('researcher')
        .and.include('market_research (string), competitors (array)');
      expect(user?.content)
        .to.include('Research the market.')
        .and.include('"idea": "a task manager for AI teams"')
        .and.include('"region": "EU"')
        .and.not.include('prompt');
    });

    it('asks for no more tokens than the grant leaves after the prompt, in tokens and in dollars', async () => {
      server.reply = () => completion('{"market_research":"x","competitors":[]}');
      await run();
      const prompt = server.requests.at(-1)?.body.messages.reduce((sum, m) => sum + m.content.length, 0) ?? 0;
      const estimated = Math.ceil(prompt / 4);
      expect(server.requests.at(-1)?.body.max_tokens).to.equal(5000 - estimated);
      // $0.001 leaves (1000 − prompt × 0.15) / 0.60 completion tokens.
      await run({ AGENT_BUDGET: JSON.stringify({ costUSD: '0.001' }) });
      expect(server.requests.at(-1)?.body.max_tokens).to.equal(
        Math.floor((1000 * 1e6 - estimated * 150_000) / 600_000),
      );
    });

    it('fails with QUOTA_EXCEEDED before calling when the prompt alone uses up the grant', async () => {
      const before = server.requests.length;
      const { code, parsed } = await run({ AGENT_BUDGET: JSON.stringify({ tokens: 10 }) });
      expect(code).to.equal(1);
      expect(reportOf(parsed).error?.class).to.equal('QUOTA_EXCEEDED');
      expect(server.requests.length).to.equal(before);
    });

    for (const [status, body, errorClass] of [
      [429, { error: { message: 'slow down', type: 'requests' } }, 'RATE_LIMIT'],
      [
        429,
        { error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } },
        'QUOTA_EXCEEDED',
      ],
      [402, { error: { message: 'pay up' } }, 'QUOTA_EXCEEDED'],
      [500, { error: { message: 'boom' } }, 'API_ERROR'],
      [503, 'overloaded', 'API_ERROR'],
      [401, { error: { message: 'bad key' } }, 'VALIDATION_ERROR'],
    ] as const) {
      it(`maps HTTP ${status} ${JSON.stringify(body).slice(0, 40)} to ${errorClass}, asking once (the operator retries)`, async () => {
        const before = server.requests.length;
        server.reply = () => ({ status, body });
        const { code, parsed, log } = await run();
        expect(code).to.equal(1);
        expect(reportOf(parsed).error?.class).to.equal(errorClass);
        expect(reportOf(parsed).error?.message).to.include(`(${status})`);
        expect(log).to.include(errorClass);
        expect(server.requests.length - before).to.equal(1);
      });
    }

    it('maps an endpoint it cannot reach to API_ERROR', async () => {
      const { code, parsed } = await run({}, { baseURL: 'http://127.0.0.1:9/v1' });
      expect(code).to.equal(1);
      expect(reportOf(parsed).error?.class).to.equal('API_ERROR');
      expect(reportOf(parsed).error?.message).to.match(
        /^could not reach http:\/\/127\.0\.0\.1:9\/v1\/chat\/completions: /,
      );
    });

    it('gives up just before the stage’s deadline with TIMEOUT', async () => {
      server.reply = () => 'hang';
      const { code, parsed } = await run({ AGENT_BUDGET: JSON.stringify({ deadlineSeconds: 1 }) });
      expect(code).to.equal(1);
      expect(reportOf(parsed).error).to.deep.equal({
        class: 'TIMEOUT',
        message: "gpt-test did not answer within 900 ms, the stage's deadline less a margin",
      });
    });

    it('fails an answer that is not the declared JSON with VALIDATION_ERROR, keeping its usage', async () => {
      server.reply = () => completion('I would rather not.', { prompt_tokens: 10, completion_tokens: 5 });
      const { parsed } = await run();
      expect(reportOf(parsed).error?.class).to.equal('VALIDATION_ERROR');
      expect(reportOf(parsed).tokens).to.equal(15);
    });

    it('fails an answer cut at the token limit with QUOTA_EXCEEDED', async () => {
      server.reply = () => completion('{"market_research": "half', undefined, 'length');
      const { parsed } = await run();
      expect(reportOf(parsed).error?.class).to.equal('QUOTA_EXCEEDED');
    });

    it('reports a 200 KiB answer through its log line, to one declared string output', async () => {
      const answer = `# Market research\n${'lorem ipsum '.repeat((200 * 1024) / 12)}`;
      server.reply = () => completion(answer, { prompt_tokens: 100, completion_tokens: 50_000 });
      const { code, parsed } = await run({ AGENT_OUTPUTS: JSON.stringify({ report: 'string' }) });
      expect(code).to.equal(0);
      expect(reportOf(parsed).outputs).to.deep.equal({ report: answer });
    });

    it('refuses an assignment without llm settings with VALIDATION_ERROR, calling nothing', async () => {
      const before = server.requests.length;
      const { code, parsed } = await run({ AGENT_LLM: '' });
      expect(code).to.equal(1);
      expect(reportOf(parsed).error?.message).to.contain('AGENT_LLM is not set');
      expect(server.requests.length).to.equal(before);
    });
  });
}
