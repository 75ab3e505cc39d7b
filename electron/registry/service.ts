// PLACEHOLDER — the registry helper replaces this file (issue 3).
import type { EventBus } from '../app/events';
export interface RegistryServiceOptions { dataDir: string; events: EventBus; log: (line: string) => void }
export class RegistryService {
  constructor(readonly options: RegistryServiceOptions) {}
  async configure(_o: { host: string; port: number }): Promise<void> {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
}
