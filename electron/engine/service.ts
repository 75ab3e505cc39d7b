// PLACEHOLDER — the engine helper replaces this file (issue 2).
import type { EventBus } from '../app/events';
export interface EngineServiceOptions { events: EventBus; log: (line: string) => void; dockerHost?: string }
export class EngineService {
  constructor(readonly options: EngineServiceOptions) {}
  watch(): void {}
  close(): void {}
}
