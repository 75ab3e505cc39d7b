/**
 * `berth registry`: the embedded registry in the foreground, without the UI. Holds the data directory
 * (other berth commands hand their work to it through the control socket) until SIGINT/SIGTERM.
 */
import { parseArgs } from 'node:util';
import { BerthError } from '../../../shared/errors';
import type { Command } from '../command';
import { startInstance, untilSignal } from '../instance';

export const registryCommand: Command = {
  name: 'registry',
  summary: 'Run the embedded registry in the foreground (no UI)',
  usage: `Usage: berth registry [--port 5000] [--host 127.0.0.1] [--data DIR]

Runs the embedded OCI registry until Ctrl-C. When it is ready it prints one line:
  Berth registry listening on http://HOST:PORT (data: DIR)

Options:
  --port P     port of the registry (default: the saved setting, 5000); 0 picks a free port
  --host H     address to bind (default 127.0.0.1; anything else exposes the registry to your network)
  --data DIR   data directory (default: the desktop app's, or $BERTH_DATA_DIR)`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: { port: { type: 'string' }, host: { type: 'string' }, data: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    });
    const port = values.port === undefined ? undefined : parsePort(values.port, '--port');
    const instance = await startInstance({ mode: 'berth registry', data: values.data, registry: { host: values.host, port }, io, registryPortFlag: '--port' });
    try {
      const status = await instance.api['registry.status']({});
      if (!status.running) throw new BerthError('REGISTRY_ERROR', status.error ?? 'The registry did not start.', status);
      io.out(`Berth registry listening on http://${status.host.includes(':') ? `[${status.host}]` : status.host}:${status.port} (data: ${instance.dataDir})`);
      await untilSignal();
      return 0;
    } finally {
      await instance.stop();
    }
  },
};

export function parsePort(value: string, flag: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new BerthError('INVALID_INPUT', `${flag} must be a port number from 0 to 65535, not "${value}".`);
  return port;
}
