/** The local engine's images: the list, the filter and sort, the selection, and details per image. */
import { create } from 'zustand';
import type { ImageDetails, ImageSummary } from '../../../shared/api/engine';
import type { ErrorInfo } from '../../../shared/errors';
import { asBerthError, berth } from '../api';
import type { ImageSort } from '../lib/images';
import { emptySelection, retain, type Selection } from '../lib/selection';

export interface DetailsEntry {
  data?: ImageDetails;
  error?: ErrorInfo;
  loading: boolean;
}

interface ImagesState {
  images: ImageSummary[];
  loaded: boolean;
  loading: boolean;
  error?: ErrorInfo;
  query: string;
  sort: ImageSort;
  selection: Selection;
  /** The row the keyboard cursor is on. */
  cursor?: string;
  /** The image whose details panel is open. */
  openId?: string;
  details: Record<string, DetailsEntry>;
  refresh(): Promise<void>;
  setQuery(q: string): void;
  setSort(sort: ImageSort): void;
  setSelection(sel: Selection, cursor?: string): void;
  open(id: string | undefined): void;
  inspect(id: string): Promise<void>;
  tag(id: string, target: string): Promise<string>;
  remove(id: string, force?: boolean): Promise<{ deleted: string[]; untagged: string[] }>;
  prune(): Promise<{ deleted: string[]; spaceReclaimed: number }>;
}

// Refreshes that arrive while one is in flight (a burst of engine events) collapse into one more.
let inFlight: Promise<void> | undefined;
let again = false;

export const useImages = create<ImagesState>((set, get) => ({
  images: [],
  loaded: false,
  loading: false,
  query: '',
  sort: { key: 'created', dir: 'desc' },
  selection: emptySelection,
  details: {},

  refresh() {
    if (inFlight) {
      again = true;
      return inFlight;
    }
    inFlight = (async () => {
      do {
        again = false;
        set({ loading: true });
        try {
          const images = await berth['images.list']({});
          const ids = images.map((i) => i.id);
          const s = get();
          const present = new Set(ids);
          // Details of an image may have changed (a new tag): drop cached ones so the panel re-reads.
          set({
            images,
            loaded: true,
            error: undefined,
            selection: retain(s.selection, ids),
            cursor: s.cursor && present.has(s.cursor) ? s.cursor : undefined,
            openId: s.openId && present.has(s.openId) ? s.openId : undefined,
            details: {},
          });
          const open = get().openId;
          if (open) void get().inspect(open);
        } catch (err) {
          set({ error: asBerthError(err).toInfo(), loaded: true });
        } finally {
          set({ loading: false });
        }
      } while (again);
    })().finally(() => (inFlight = undefined));
    return inFlight;
  },

  setQuery: (query) => set({ query }),
  setSort: (sort) => set({ sort }),
  setSelection: (selection, cursor) => set({ selection, cursor: cursor ?? get().cursor }),
  open(id) {
    set({ openId: id });
    if (id && !get().details[id]?.data) void get().inspect(id);
  },

  async inspect(id) {
    set({ details: { ...get().details, [id]: { ...get().details[id], loading: true } } });
    try {
      const data = await berth['images.inspect']({ id });
      set({ details: { ...get().details, [id]: { data, loading: false } } });
    } catch (err) {
      set({ details: { ...get().details, [id]: { error: asBerthError(err).toInfo(), loading: false } } });
    }
  },

  async tag(id, target) {
    const { reference } = await berth['images.tag']({ id, target });
    void get().refresh();
    return reference;
  },

  async remove(id, force) {
    const result = await berth['images.remove'](force ? { id, force: true } : { id });
    void get().refresh();
    return result;
  },

  async prune() {
    const result = await berth['images.prune']({});
    void get().refresh();
    return result;
  },
}));
