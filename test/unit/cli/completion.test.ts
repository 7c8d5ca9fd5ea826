import { expect } from 'chai';
import { Command, Option } from 'commander';
import { complete, DIRECTIVE, formatCompletion, type CompletionSource } from '../../../src/cli/completion.js';

/** A program shaped as the CLI's: cluster flags, a runbook argument, a gate, files, templates. */
function program(): Command {
  const root = new Command('agentrunbook');
  const withFlags = (command: Command) =>
    command
      .option('--kubeconfig <path>')
      .option('--context <name>')
      .option('-n, --namespace <namespace>')
      .addOption(new Option('-o, --output <format>').choices(['tree', 'yaml', 'json']));
  withFlags(root.command('get <name>'));
  withFlags(root.command('approve <name> <gate>'));
  root.command('validate <file...>');
  withFlags(root.command('templates').command('show <name>'));
  root.command('logs <name>').option('-f, --follow');
  return root;
}

describe('shell completion (cobra’s __complete protocol)', () => {
  const asked: { what: string; flags: Record<string, string> }[] = [];
  const source: CompletionSource = {
    runbooks: (flags) => {
      asked.push({ what: 'runbooks', flags: Object.fromEntries(flags) });
      return Promise.resolve(['alpha', 'beta']);
    },
    gates: (runbook) => Promise.resolve(runbook === 'alpha' ? ['risk_review', 'security'] : []),
    templates: () => Promise.resolve(['comprehensive-pipeline']),
    namespaces: () => Promise.resolve(['agents', 'default']),
    contexts: () => Promise.reject(new Error('no kubeconfig')),
  };

  it('completes commands, then their flags', async () => {
    expect(await complete(program(), [], 'ap', source)).to.deep.equal({
      candidates: ['approve'],
      directive: DIRECTIVE.noFileComp,
    });
    expect((await complete(program(), ['logs'], '--f', source)).candidates).to.deep.equal(['--follow']);
  });

  it('completes runbook names with the namespace and context already typed', async () => {
    asked.length = 0;
    const answer = await complete(program(), ['get', '-n', 'agents', '--context=prod'], 'a', source);
    expect(answer.candidates).to.deep.equal(['alpha']);
    expect(asked).to.deep.equal([{ what: 'runbooks', flags: { namespace: 'agents', context: 'prod' } }]);
  });

  it("completes a gate from the runbook before it, an option's choices and namespaces", async () => {
    expect((await complete(program(), ['approve', 'alpha'], 'r', source)).candidates).to.deep.equal([
      'risk_review',
    ]);
    expect((await complete(program(), ['get', 'alpha', '-o'], '', source)).candidates).to.deep.equal([
      'tree',
      'yaml',
      'json',
    ]);
    expect((await complete(program(), ['get', '-n'], 'ag', source)).candidates).to.deep.equal(['agents']);
    expect((await complete(program(), ['templates', 'show'], '', source)).candidates).to.deep.equal([
      'comprehensive-pipeline',
    ]);
  });

  it('leaves files to the shell, and a failed lookup gives nothing rather than an error', async () => {
    expect(await complete(program(), ['validate'], 'ex', source)).to.deep.equal({
      candidates: [],
      directive: DIRECTIVE.default,
    });
    expect(await complete(program(), ['get', '--context'], '', source)).to.deep.equal({
      candidates: [],
      directive: DIRECTIVE.noFileComp,
    });
    expect(formatCompletion({ candidates: ['a', 'b'], directive: 4 })).to.equal('a\nb\n:4\n');
  });
});
