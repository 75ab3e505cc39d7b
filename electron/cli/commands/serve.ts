/**
 * `berth serve`: the whole backend headless — the embedded registry, the HTTP bridge with the UI for a
 * browser on this machine, the control socket — until SIGINT/SIGTERM. Prints the URL to open; the
 * token rides in its fragment, which the browser never sends anywhere.
 */
import { existsSync } from 'node:fs';
import { appPath } from '../../app/paths';
import { parseArgs } from 'node:util';
import { newToken } from '../../server/auth';
import { bridgeTarget } from '../../server/control';
import { startBridgeServer } from '../../server/server';
import type { Command } from '../command';
import { startInstance, untilSignal } from '../instance';
import { parsePort } from './registry';

/** The built UI (electron-vite build → out/renderer), beside the sources in a checkout. */
export const uiRoot = appPath('out', 'renderer');

export const serveCommand: Command = {
  name: 'serve',
  summary: 'Run Berth headless and use it from a browser on this machine',
  usage: `Usage: berth serve [--port 7780] [--host 127.0.0.1] [--data DIR] [--registry-port 5000] [--no-registry]

Starts the backend, the embedded registry and the web UI, and prints the URL to open (it carries a
per-run token; requests without it get 401). Runs until Ctrl-C.

Options:
  --port P            port of the web UI and API (default 7780)
  --host H            address to bind (default 127.0.0.1; anything else exposes Berth to your network)
  --data DIR          data directory (default: the desktop app's, or $BERTH_DATA_DIR)
  --registry-port P   port of the embedded registry (default: the saved setting, 5000)
  --no-registry       do not start the embedded registry`,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        port: { type: 'string', default: '7780' },
        host: { type: 'string', default: '127.0.0.1' },
        data: { type: 'string' },
        'registry-port': { type: 'string' },
        'no-registry': { type: 'boolean', default: false },
      },
      strict: true,
      allowPositionals: false,
    });
    const port = parsePort(values.port, '--port');
    const registryPort = values['registry-port'] === undefined ? undefined : parsePort(values['registry-port'], '--registry-port');
    const instance = await startInstance({
      mode: 'berth serve',
      data: values.data,
      registry: values['no-registry'] ? false : registryPort === undefined ? undefined : { port: registryPort },
      io,
    });
    try {
      const token = newToken();
      if (!existsSync(`${uiRoot}/index.html`)) io.err(`The UI is not built (${uiRoot}); run \`npm run build\`. The API works without it.`);
      const bridge = await startBridgeServer({ target: bridgeTarget(instance.backend), token, host: values.host, port, uiRoot, log: io.err });
      instance.onStop(() => bridge.close());
      // A wildcard bind is reached from this machine through loopback.
      const shown = values.host === '0.0.0.0' || values.host === '::' ? `http://127.0.0.1:${bridge.port}` : bridge.address;
      io.out(`Berth is running (data: ${instance.dataDir}). Open:`);
      io.out(`  ${shown}/#token=${token}`);
      if (!values['no-registry']) {
        const status = await instance.api['registry.status']({}).catch((err: Error) => ({ running: false, error: err.message, address: '' }));
        io.out(status.running ? `Registry: ${status.address}` : `Registry not running: ${status.error ?? 'stopped'}`);
      }
      io.out('Press Ctrl-C to stop.');
      await untilSignal();
      io.err('Stopping…');
      return 0;
    } finally {
      await instance.stop();
    }
  },
};
