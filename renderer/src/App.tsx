/**
 * The app shell: sidebar with the five views, the engine banner, the current view, toasts, the import
 * sheet, and a drop target covering the whole window. Keyboard: 1–5 switch views, `/` focuses the
 * current view's filter, `i` opens the file picker for an import, Esc closes sheets.
 */
import { useEffect, useRef, useState } from 'react';
import { EngineBanner } from './components/EngineBanner';
import { Sidebar } from './components/Sidebar';
import { Toasts } from './components/Toasts';
import { connectEvents } from './store/events';
import { useUi, views, type View } from './store/ui';
import { ImagesView } from './views/images/ImagesView';
import { ImportSheet } from './views/import/ImportSheet';
import { ArchiveInput } from './components/ArchiveInput';
import { RegistryView } from './views/registry/RegistryView';
import { RemotesView } from './views/RemotesView';
import { SettingsView } from './views/SettingsView';
import { TransfersView } from './views/TransfersView';

const viewComponents: Record<View, () => React.JSX.Element> = {
  images: ImagesView,
  registry: RegistryView,
  remotes: RemotesView,
  transfers: TransfersView,
  settings: SettingsView,
};

const typing = (el: EventTarget | null): boolean =>
  el instanceof HTMLElement && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));

export function App() {
  const { view, setView, openImport, importFiles } = useUi();
  const [dragging, setDragging] = useState(false);
  const picker = useRef<HTMLInputElement>(null);

  useEffect(() => connectEvents(), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || typing(e.target) || useUi.getState().importFiles || document.querySelector('[role="dialog"]')) return;
      const n = Number(e.key);
      if (Number.isInteger(n) && n >= 1 && n <= views.length) {
        setView(views[n - 1]);
        e.preventDefault();
      } else if (e.key === '/') {
        const filter = document.querySelector<HTMLInputElement>('[data-shortcut="filter"]');
        if (filter) {
          e.preventDefault();
          filter.focus();
          filter.select();
        }
      } else if (e.key === 'i') {
        e.preventDefault();
        picker.current?.click();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [setView]);

  useEffect(() => {
    // dragenter/dragleave fire for every child element; count them to know when the drag left the window.
    let depth = 0;
    const hasFiles = (e: DragEvent) => e.dataTransfer?.types.includes('Files') ?? false;
    const enter = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth++;
      setDragging(true);
    };
    const leave = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) setDragging(false);
    };
    const over = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
    };
    const drop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      // Never let the browser navigate to a dropped file.
      e.preventDefault();
      depth = 0;
      setDragging(false);
      const files = [...(e.dataTransfer?.files ?? [])];
      if (files.length > 0) openImport(files);
    };
    window.addEventListener('dragenter', enter);
    window.addEventListener('dragleave', leave);
    window.addEventListener('dragover', over);
    window.addEventListener('drop', drop);
    return () => {
      window.removeEventListener('dragenter', enter);
      window.removeEventListener('dragleave', leave);
      window.removeEventListener('dragover', over);
      window.removeEventListener('drop', drop);
    };
  }, [openImport]);

  const Current = viewComponents[view];
  return (
    <div className="shell">
      <Sidebar onImport={() => picker.current?.click()} />
      <main className="main">
        <EngineBanner />
        <Current />
      </main>
      <ArchiveInput inputRef={picker} label="Choose archives to import" />
      {importFiles && <ImportSheet />}
      {dragging && (
        <div className="dropzone" aria-hidden="true">
          Drop image archives to import them
        </div>
      )}
      <Toasts />
    </div>
  );
}
