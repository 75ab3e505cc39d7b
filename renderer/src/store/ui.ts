/** Which view is showing, and the import sheet (opened by a drop anywhere or the file picker). */
import { create } from 'zustand';

export const views = ['images', 'registry', 'remotes', 'transfers', 'settings'] as const;
export type View = (typeof views)[number];

export const viewTitles: Record<View, string> = {
  images: 'Images',
  registry: 'Registry',
  remotes: 'Remotes',
  transfers: 'Transfers',
  settings: 'Settings',
};

interface UiState {
  view: View;
  setView(view: View): void;
  /** Files waiting in the import sheet; null when the sheet is closed. */
  importFiles: File[] | null;
  openImport(files: File[]): void;
  closeImport(): void;
}

export const useUi = create<UiState>((set, get) => ({
  view: 'images',
  setView: (view) => set({ view }),
  importFiles: null,
  openImport(files) {
    // A second drop while the sheet is open adds to it rather than replacing what is being prepared.
    const current = get().importFiles ?? [];
    const known = new Set(current.map((f) => `${f.name}:${f.size}:${f.lastModified}`));
    set({ importFiles: [...current, ...files.filter((f) => !known.has(`${f.name}:${f.size}:${f.lastModified}`))] });
  },
  closeImport: () => set({ importFiles: null }),
}));
