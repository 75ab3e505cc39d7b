/**
 * The embedded registry as the Registry view browses it: status, storage, repositories → tags →
 * manifest (platforms of an index, layers) → config and history.
 */
import { create } from 'zustand';
import type { RegistryStatus, RepositorySummary, StorageUsage, TagSummary } from '../../../shared/api/registry';
import type { ErrorInfo } from '../../../shared/errors';
import type { JobSnapshot } from '../../../shared/jobs';
import { asBerthError, berth } from '../api';

export interface Loadable<T> {
  data?: T;
  error?: ErrorInfo;
  loading: boolean;
}

export interface ManifestView {
  digest: string;
  mediaType: string;
  size: number;
  manifest: unknown;
}

interface RegistryState {
  status: Loadable<RegistryStatus>;
  usage: Loadable<StorageUsage>;
  repositories: Loadable<RepositorySummary[]>;
  selectedRepo?: string;
  tags: Record<string, Loadable<TagSummary[]>>;
  /** Keyed by `repo@reference` (a tag or a digest). */
  manifests: Record<string, Loadable<ManifestView>>;
  /** Keyed by `repo@configDigest`. */
  configs: Record<string, Loadable<unknown>>;
  busy: boolean;
  refresh(): Promise<void>;
  setStatus(status: RegistryStatus): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  selectRepo(name: string | undefined): void;
  loadTags(repo: string): Promise<void>;
  loadManifest(repo: string, reference: string): Promise<void>;
  loadConfig(repo: string, digest: string): Promise<void>;
  deleteTag(repo: string, tag: string): Promise<void>;
  gc(): Promise<JobSnapshot>;
}

const idle = { loading: false } as const;

async function load<T>(run: () => Promise<T>, put: (l: Loadable<T>) => void, prev?: Loadable<T>): Promise<void> {
  put({ data: prev?.data, loading: true });
  try {
    put({ data: await run(), loading: false });
  } catch (err) {
    put({ data: prev?.data, error: asBerthError(err).toInfo(), loading: false });
  }
}

export const useRegistry = create<RegistryState>((set, get) => ({
  status: idle,
  usage: idle,
  repositories: idle,
  tags: {},
  manifests: {},
  configs: {},
  busy: false,

  async refresh() {
    const s = get();
    await Promise.all([
      load(() => berth['registry.status']({}), (status) => set({ status }), s.status),
      load(() => berth['registry.usage']({}), (usage) => set({ usage }), s.usage),
      load(() => berth['registry.repositories']({}), (repositories) => set({ repositories }), s.repositories),
    ]);
    // Content changed: what was open is re-read, everything else is dropped from the cache.
    set({ manifests: {}, configs: {}, tags: {} });
    const repo = get().selectedRepo;
    if (repo) {
      if (!get().repositories.data?.some((r) => r.name === repo)) set({ selectedRepo: undefined });
      else await get().loadTags(repo);
    }
  },

  setStatus: (status) => set({ status: { data: status, loading: false } }),

  start: () => switchRegistry(() => berth['registry.start']({})),
  stop: () => switchRegistry(() => berth['registry.stop']({})),

  selectRepo(name) {
    set({ selectedRepo: name });
    if (name && !get().tags[name]?.data) void get().loadTags(name);
  },

  loadTags: (repo) => load(() => berth['registry.tags']({ repository: repo }), (l) => set({ tags: { ...get().tags, [repo]: l } }), get().tags[repo]),

  loadManifest: (repo, reference) =>
    load(
      () => berth['registry.manifest']({ repository: repo, reference }),
      (l) => set({ manifests: { ...get().manifests, [`${repo}@${reference}`]: l } }),
      get().manifests[`${repo}@${reference}`],
    ),

  loadConfig: (repo, digest) =>
    load(
      () => berth['registry.config']({ repository: repo, digest }),
      (l) => set({ configs: { ...get().configs, [`${repo}@${digest}`]: l } }),
      get().configs[`${repo}@${digest}`],
    ),

  async deleteTag(repo, tag) {
    await berth['registry.deleteTag']({ repository: repo, tag });
    await get().refresh();
  },

  gc: () => berth['registry.gc']({}),
}));

/** Start or stop, with the status card's buttons disabled meanwhile. */
async function switchRegistry(run: () => Promise<RegistryStatus>): Promise<void> {
  useRegistry.setState({ busy: true });
  try {
    useRegistry.getState().setStatus(await run());
  } finally {
    useRegistry.setState({ busy: false });
  }
}
