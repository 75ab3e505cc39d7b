/**
 * The `berth` command: a table of subcommands (electron/cli/commands/<name>.ts). Adding a command is one
 * import and one entry below. Every command answers --help; errors print as one line (the stack only
 * with BERTH_DEBUG=1); exit codes: 0 ok, 1 failed, 2 usage error.
 */
import { pathToFileURL } from 'node:url';
import { BerthError } from '../../shared/errors';
import type { CliIO, Command } from './command';
import { berthVersion } from './instance';
import { helpCommand, helpText } from './commands/help';
import { registryCommand } from './commands/registry';
import { serveCommand } from './commands/serve';
import { importCommand } from './commands/import';
import { exportCommand } from './commands/export';
import { gcCommand } from './commands/gc';
import { fsckCommand } from './commands/fsck';

const versionCommand: Command = {
  name: 'version',
  summary: 'Print the version',
  usage: 'Usage: berth version',
  async run(_argv, io) {
    io.out(berthVersion());
    return 0;
  },
};

export const commands: Command[] = [serveCommand, registryCommand, importCommand, exportCommand, gcCommand, fsckCommand, helpCommand(() => commands), versionCommand];

const isUsageError = (err: unknown) =>
  err instanceof BerthError ? err.code === 'INVALID_INPUT' : typeof (err as { code?: unknown })?.code === 'string' && String((err as { code: string }).code).startsWith('ERR_PARSE_ARGS');

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    io.out(helpText(commands));
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-v') return versionCommand.run([], io);
  const command = commands.find((c) => c.name === name);
  if (!command) {
    io.err(`berth: unknown command "${name}". Run \`berth help\` for the list.`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    io.err(`berth ${command.name}: ${message}`);
    if (process.env.BERTH_DEBUG === '1' && err instanceof Error && err.stack) io.err(err.stack);
    if (isUsageError(err)) {
      io.err(`Run \`berth ${command.name} --help\` for usage.`);
      return 2;
    }
    return 1;
  }
}

export const processIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  tty: Boolean(process.stderr.isTTY),
};

/** Run as the process's command; exits when done (a stopped backend may leave idle handles behind). */
export async function main(): Promise<never> {
  const code = await runCli(process.argv.slice(2), processIO);
  process.exit(code);
}

// `node --import tsx electron/cli/main.ts …` (bin/berth.mjs calls main() itself).
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
