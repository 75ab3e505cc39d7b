/**
 * Composition root: builds every service from one config and implements the contract by merging each
 * area's handlers. The desktop app (electron/main), `berth serve` and the CLI all start here.
 */
import { platform } from 'node:os';
import type { BerthHandlers } from '../../shared/api';
import type { AppInfo } from '../../shared/api/app';
import { EventBus } from './events';
import { createDispatch, type Dispatch } from './dispatch';
import { readSettings, updateSettings, type KeyValueStore } from './settings';
import { JobManager } from '../transfers/jobs';
import { jobHandlers } from '../transfers/api';
import { EngineService } from '../engine/service';
import { engineHandlers } from '../engine/api';
import { RegistryService } from '../registry/service';
import { registryHandlers } from '../registry/api';
import { ArchiveService } from '../archive/service';
import { archiveHandlers } from '../archive/api';
import { ExportCache } from '../archive/exports';

export interface BackendConfig {
  mode: AppInfo['mode'];
  version: string;
  dataDir: string;
  store: KeyValueStore;
  log?: (line: string) => void;
  /** Overrides of the saved registry settings for this run (CLI flags); `false` keeps it stopped. */
  registry?: { host?: string; port?: number } | false;
  /** Engine endpoint override (e.g. a test's private dockerd); else discovery (DOCKER_HOST, contexts, sockets). */
  dockerHost?: string;
}

export interface Services {
  config: BackendConfig;
  events: EventBus;
  jobs: JobManager;
  engine: EngineService;
  registry: RegistryService;
  archive: ArchiveService;
  /** Archives prepared for a drag out of the window or a download (<data>/exports). */
  exports: ExportCache;
  log: (line: string) => void;
}

export interface Backend {
  dispatch: Dispatch;
  handlers: BerthHandlers;
  services: Services;
  /** Start what runs in the background: engine watch, the registry when autoStart is on. */
  start(): Promise<void>;
  close(): Promise<void>;
}

export function createBackend(config: BackendConfig): Backend {
  const log = config.log ?? ((line: string) => console.error(line));
  const events = new EventBus();
  const jobs = new JobManager(events);
  const engine = new EngineService({ events, log, dockerHost: config.dockerHost });
  const registry = new RegistryService({ dataDir: config.dataDir, events, log });
  const archive = new ArchiveService({ dataDir: config.dataDir, registry, engine, jobs, log });
  const exports = new ExportCache({ dataDir: config.dataDir, archive, jobs, log });
  const services: Services = { config, events, jobs, engine, registry, archive, exports, log };

  const handlers: BerthHandlers = {
    'app.info': async () => ({ version: config.version, mode: config.mode, dataDir: config.dataDir, platform: platform() }),
    'settings.get': async () => readSettings(config.store),
    'settings.update': async (patch) => {
      const next = updateSettings(config.store, patch);
      if (patch.registry && (patch.registry.host !== undefined || patch.registry.port !== undefined)) {
        await registry.configure({ host: next.registry.host, port: next.registry.port });
      }
      return next;
    },
    ...jobHandlers(services),
    ...engineHandlers(services),
    ...registryHandlers(services),
    ...archiveHandlers(services),
  };

  return {
    dispatch: createDispatch(handlers, log),
    handlers,
    services,
    async start() {
      engine.watch();
      exports.start();
      const saved = readSettings(config.store).registry;
      if (config.registry !== false) {
        const host = config.registry?.host ?? saved.host;
        const port = config.registry?.port ?? saved.port;
        await registry.configure({ host, port });
        if (config.registry !== undefined || saved.autoStart) await registry.start();
      }
    },
    async close() {
      await jobs.close();
      exports.close();
      engine.close();
      await registry.close();
    },
  };
}
