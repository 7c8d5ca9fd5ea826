import { expect } from 'chai';
import { Command } from 'commander';
import { COMMAND_MODULES, modulesFor } from '../../../src/cli/command-modules.js';

describe('the CLI loads only the module of the command it runs', () => {
  it('declares, for each module, exactly the commands and aliases it registers', async () => {
    for (const module of COMMAND_MODULES) {
      const program = new Command();
      (await module.load())(program);
      const registered = program.commands.flatMap((command) => [command.name(), ...command.aliases()]);
      expect(registered.sort(), module.commands.join(' ')).to.deep.equal([...module.commands].sort());
    }
  });

  it('names no command in two modules', () => {
    const all = COMMAND_MODULES.flatMap((module) => module.commands);
    expect(new Set(all).size).to.equal(all.length);
  });

  it('picks the one module for a command or an alias, and all of them otherwise', () => {
    expect(modulesFor(['operator', '--workers=4']).map((module) => module.commands[0])).to.deep.equal([
      'operator',
    ]);
    expect(modulesFor(['ls', '-A']).map((module) => module.commands[0])).to.deep.equal(['list']);
    for (const args of [[], ['help', 'get'], ['--help'], ['no-such-command']]) {
      expect(modulesFor(args)).to.equal(COMMAND_MODULES);
    }
  });
});
