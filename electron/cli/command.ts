/**
 * A `berth` subcommand. Each lives in electron/cli/commands/<name>.ts and is listed in electron/cli/main.ts.
 * Commands that act on a data directory go through the contract (electron/cli/instance.ts): they hand the
 * work to the Berth instance that holds the directory, or take the lock and run a backend themselves.
 */
export interface CliIO {
  out: (line: string) => void;
  err: (line: string) => void;
  /** True when stderr is a terminal: draw progress bars; otherwise print plain progress lines. */
  tty: boolean;
}

export interface Command {
  name: string;
  summary: string;
  /** Shown by `berth help <name>` and on a usage error. */
  usage: string;
  /** Returns the process exit code. Throwing a BerthError prints its message and exits 1. */
  run(argv: string[], io: CliIO): Promise<number>;
}
