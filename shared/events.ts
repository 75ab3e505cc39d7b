/**
 * Events pushed from the backend to the UI over either transport (IPC messages or server-sent events).
 * Events say *that* something changed; the UI re-reads through the contract when it needs details.
 */
import type { JobSnapshot } from './jobs';
import type { EngineStatus } from './api/engine';
import type { RegistryStatus } from './api/registry';

export type BerthEvent =
  | { type: 'job'; job: JobSnapshot }
  | { type: 'engine.status'; status: EngineStatus }
  /** The engine's own event stream said images changed (pull, tag, delete, load, …). */
  | { type: 'engine.images-changed' }
  | { type: 'registry.status'; status: RegistryStatus }
  /** Something in the embedded registry changed (push, delete, import, gc). */
  | { type: 'registry.changed'; repository?: string };

export type EventListener = (event: BerthEvent) => void;
