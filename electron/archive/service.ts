// PLACEHOLDER — the archive helper replaces this file (issue 4).
import type { EngineService } from '../engine/service';
import type { RegistryService } from '../registry/service';
import type { JobManager } from '../transfers/jobs';
export interface ArchiveServiceOptions { dataDir: string; registry: RegistryService; engine: EngineService; jobs: JobManager; log: (line: string) => void }
export class ArchiveService {
  constructor(readonly options: ArchiveServiceOptions) {}
}
