import { expect } from 'chai';
import { startCli } from '../../support/cli-process.js';

describe('agentrunbook operator --namespace', function () {
  this.timeout(60_000);

  for (const [value, problem] of [
    ['team-a,Team_B', '--namespace takes namespace names separated by commas, not "Team_B"'],
    ['team-a,,team-b', '--namespace takes namespace names separated by commas, not ""'],
    ['team-a,team-a', '--namespace names a namespace twice: team-a,team-a'],
  ] as const) {
    it(`refuses ${value} before reading anything, saying why`, async () => {
      const run = startCli(['operator', '--config', '/nonexistent/config.yaml', '--namespace', value]);
      expect(await run.exited).to.equal(1);
      // The operator logs JSON lines: the error is one's field.
      const errors = run
        .output()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => (JSON.parse(line) as { error?: string }).error);
      expect(errors, run.output()).to.include(problem);
    });
  }
});

describe('agentrunbook operator --webhook-shutdown-delay', function () {
  this.timeout(60_000);

  it('refuses what is no duration before reading anything, saying why', async () => {
    const run = startCli([
      'operator',
      '--config',
      '/nonexistent/config.yaml',
      '--webhook-shutdown-delay',
      'soon',
    ]);
    expect(await run.exited).to.equal(1);
    expect(run.output()).to.contain('--webhook-shutdown-delay must be a duration such as 15s, not soon');
    expect(run.output()).not.to.contain('/nonexistent/config.yaml');
  });
});

describe('agentrunbook operator --no-optimize-for-size', function () {
  this.timeout(60_000);

  for (const args of [[], ['--no-optimize-for-size']]) {
    it(`starts ${args.length ? 'with' : 'without'} it, and goes on to read its configuration`, async () => {
      const run = startCli(['operator', '--config', '/nonexistent/config.yaml', ...args]);
      expect(await run.exited).to.equal(1);
      expect(run.output()).to.contain('/nonexistent/config.yaml');
      expect(run.output()).not.to.contain('unknown option');
    });
  }
});
