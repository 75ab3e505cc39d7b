/** `berth help [command]`: the command list, or one command's usage. */
import { BerthError } from '../../../shared/errors';
import type { Command } from '../command';

export function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: berth <command> [options]',
    '',
    'Your own container registry and a visual manager for your images.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run `berth <command> --help` for the options of a command.',
  ].join('\n');
}

export function helpCommand(commands: () => readonly Command[]): Command {
  return {
    name: 'help',
    summary: 'Show the commands, or the options of one command',
    usage: 'Usage: berth help [command]',
    async run(argv, io) {
      const [name] = argv;
      if (!name) {
        io.out(helpText(commands()));
        return 0;
      }
      const command = commands().find((c) => c.name === name);
      if (!command) throw new BerthError('INVALID_INPUT', `Unknown command "${name}". Run \`berth help\` for the list.`);
      io.out(command.usage);
      return 0;
    },
  };
}
