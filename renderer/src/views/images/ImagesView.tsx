/**
 * The local engine's images: a sortable, filterable table with multi-select (click, Ctrl/Cmd, Shift) and
 * keyboard navigation (arrows move, Enter opens details, Delete removes, `/` filters), a details panel,
 * tag, remove (naming the containers that block it), prune dangling, export.
 */
import { useEffect, useMemo, useRef, useState, type KeyboardEvent } from 'react';
import type { ImageSummary } from '../../../../shared/api/engine';
import { Empty, ErrorNote, Loading } from '../../components/Bits';
import { CopyButton } from '../../components/CopyButton';
import { ExportOut } from '../../components/ExportOut';
import { defaultSelection, exportName } from '../../lib/export-out';
import { formatBytes, formatDate, formatRelative, plural, shortId } from '../../../../shared/format';
import { displayName, visibleImages, type ImageSortKey } from '../../lib/images';
import { modeOf, select } from '../../lib/selection';
import { useEngine } from '../../store/engine';
import { useImages } from '../../store/images';
import { ImageDetailsPanel } from './ImageDetailsPanel';
import { TagDialog } from './TagDialog';
import { RemoveDialog } from './RemoveDialog';
import { PruneDialog } from './PruneDialog';
import { ExportDialog } from '../ExportDialog';

type Open = { kind: 'tag'; image: ImageSummary } | { kind: 'remove'; images: ImageSummary[] } | { kind: 'prune' } | { kind: 'export'; images: ImageSummary[] } | undefined;

const columns: Array<{ key: ImageSortKey | null; label: string; num?: boolean }> = [
  { key: 'name', label: 'Repository:tag' },
  { key: 'id', label: 'Image ID' },
  { key: 'created', label: 'Created' },
  { key: 'size', label: 'Size', num: true },
  { key: null, label: 'Status' },
];

export function ImagesView() {
  const s = useImages();
  const engine = useEngine((e) => e.status);
  const [dialog, setDialog] = useState<Open>();
  const filterRef = useRef<HTMLInputElement>(null);
  const tableRef = useRef<HTMLTableSectionElement>(null);

  const rows = useMemo(() => visibleImages(s.images, s.query, s.sort), [s.images, s.query, s.sort]);
  const order = useMemo(() => rows.map((r) => r.id), [rows]);
  const selected = rows.filter((r) => s.selection.ids.has(r.id));
  const danglingCount = s.images.filter((i) => i.dangling).length;

  useEffect(() => {
    // The cursor row follows the keyboard; keep it in view.
    if (s.cursor) tableRef.current?.querySelector(`[data-id="${CSS.escape(s.cursor)}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [s.cursor]);

  const moveCursor = (delta: number, e: KeyboardEvent) => {
    if (order.length === 0) return;
    const at = s.cursor ? order.indexOf(s.cursor) : -1;
    const next = order[Math.max(0, Math.min(order.length - 1, at < 0 ? 0 : at + delta))];
    const mode = e.shiftKey ? 'range' : 'single';
    s.setSelection(select(s.selection, order, next, mode), next);
    if (s.openId && !e.shiftKey) s.open(next);
  };

  const onKeyDown = (e: KeyboardEvent) => {
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      moveCursor(1, e);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      moveCursor(-1, e);
    } else if (e.key === 'Enter' && s.cursor) {
      e.preventDefault();
      s.open(s.cursor);
    } else if ((e.key === 'Delete' || e.key === 'Backspace') && selected.length > 0) {
      e.preventDefault();
      setDialog({ kind: 'remove', images: selected });
    } else if (e.key === 'a' && (e.ctrlKey || e.metaKey)) {
      e.preventDefault();
      s.setSelection({ ids: new Set(order), anchor: order[0] });
    } else if (e.key === 'Escape' && s.openId) {
      s.open(undefined);
    }
  };

  const sortBy = (key: ImageSortKey) =>
    s.setSort(s.sort.key === key ? { key, dir: s.sort.dir === 'asc' ? 'desc' : 'asc' } : { key, dir: key === 'name' || key === 'id' ? 'asc' : 'desc' });

  const engineDown = engine && !engine.connected;

  return (
    <section className="view" aria-label="Images">
      <div className="view-head">
        <h1>Images</h1>
        <input
          ref={filterRef}
          className="input filter"
          type="search"
          placeholder="Filter: name, tag, id, dangling, in-use   ( / )"
          aria-label="Filter images"
          aria-keyshortcuts="/"
          data-shortcut="filter"
          value={s.query}
          onChange={(e) => s.setQuery(e.target.value)}
          onKeyDown={(e) => {
            if (e.key === 'ArrowDown') {
              e.preventDefault();
              tableRef.current?.closest('table')?.focus();
              moveCursor(s.cursor ? 0 : 1, e);
            } else if (e.key === 'Escape' && s.query) {
              e.stopPropagation();
              s.setQuery('');
            }
          }}
        />
        <span className="muted small" aria-live="polite">
          {s.loaded ? `${rows.length} of ${plural(s.images.length, 'image')}` : ''}
          {selected.length > 0 ? ` · ${selected.length} selected` : ''}
        </span>
        <span className="spacer" />
        <button type="button" className="btn" disabled={selected.length !== 1} onClick={() => setDialog({ kind: 'tag', image: selected[0] })}>
          Tag…
        </button>
        <button type="button" className="btn" disabled={selected.length === 0} onClick={() => setDialog({ kind: 'export', images: selected })}>
          Export…
        </button>
        <button type="button" className="btn danger" disabled={selected.length === 0} onClick={() => setDialog({ kind: 'remove', images: selected })}>
          Remove{selected.length > 1 ? ` ${selected.length}` : ''}
        </button>
        <button type="button" className="btn" disabled={!s.loaded || engineDown} onClick={() => setDialog({ kind: 'prune' })} title={`${plural(danglingCount, 'dangling image')}`}>
          Prune dangling
        </button>
        <button type="button" className="btn" onClick={() => void s.refresh()} disabled={s.loading} aria-label="Refresh images">
          {s.loading ? 'Refreshing…' : 'Refresh'}
        </button>
      </div>

      {s.error && !engineDown && <ErrorNote error={s.error} what="Could not list images" />}

      <div className={`split${s.openId ? ' open' : ''}`}>
        <div className="table-wrap">
          {engineDown && s.images.length === 0 ? (
            <Empty title="No engine connected">
              <p>The images of your Docker engine show here once it answers; the banner above says what to do.</p>
            </Empty>
          ) : !s.loaded ? (
            <Loading what="images" />
          ) : s.images.length === 0 && !s.error ? (
            <Empty title="No images in this engine yet">
              <p>
                Pull or build one (<code>docker pull alpine</code>), or drop a <code>docker save</code> archive anywhere on this window to import it.
              </p>
            </Empty>
          ) : rows.length === 0 && s.images.length > 0 ? (
            <Empty title="No image matches the filter">
              <button type="button" className="btn" onClick={() => s.setQuery('')}>
                Clear the filter
              </button>
            </Empty>
          ) : (
            <table className={`grid${s.openId ? ' compact' : ''}`} role="grid" aria-label="Images" aria-multiselectable="true" tabIndex={0} onKeyDown={onKeyDown}>
              <thead>
                <tr>
                  {columns.map((c) => (
                    <th
                      key={c.label}
                      className={c.num ? 'num' : undefined}
                      aria-sort={c.key && s.sort.key === c.key ? (s.sort.dir === 'asc' ? 'ascending' : 'descending') : undefined}
                    >
                      {c.key ? (
                        <button type="button" onClick={() => sortBy(c.key as ImageSortKey)}>
                          {c.label}
                          {s.sort.key === c.key ? (s.sort.dir === 'asc' ? ' ▲' : ' ▼') : ''}
                        </button>
                      ) : (
                        c.label
                      )}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody ref={tableRef}>
                {rows.map((img) => (
                  <ImageRow
                    key={img.id}
                    img={img}
                    selected={s.selection.ids.has(img.id)}
                    cursor={s.cursor === img.id}
                    onClick={(e) => {
                      s.setSelection(select(s.selection, order, img.id, modeOf(e)), img.id);
                      if (s.openId && modeOf(e) === 'single') s.open(img.id);
                    }}
                    onOpen={() => {
                      s.setSelection(select(s.selection, order, img.id, 'single'), img.id);
                      s.open(img.id);
                    }}
                  />
                ))}
              </tbody>
            </table>
          )}
        </div>
        {s.openId && <ImageDetailsPanel id={s.openId} onClose={() => s.open(undefined)} onTag={(image) => setDialog({ kind: 'tag', image })} onRemove={(image) => setDialog({ kind: 'remove', images: [image] })} />}
      </div>

      {dialog?.kind === 'tag' && <TagDialog image={dialog.image} onClose={() => setDialog(undefined)} />}
      {dialog?.kind === 'remove' && <RemoveDialog images={dialog.images} onClose={() => setDialog(undefined)} />}
      {dialog?.kind === 'prune' && <PruneDialog danglingCount={danglingCount} onClose={() => setDialog(undefined)} />}
      {dialog?.kind === 'export' && (
        <ExportDialog from="engine" images={dialog.images.map(exportName)} onClose={() => setDialog(undefined)} />
      )}
    </section>
  );
}

function ImageRow(props: { img: ImageSummary; selected: boolean; cursor: boolean; onClick: (e: React.MouseEvent) => void; onOpen: () => void }) {
  const { img, selected, cursor } = props;
  const name = displayName(img);
  const extraTags = img.repoTags.filter((t) => t !== name && t !== '<none>:<none>');
  return (
    <tr data-id={img.id} aria-selected={selected} className={cursor ? 'cursor' : undefined} onClick={props.onClick} onDoubleClick={props.onOpen}>
      <td>
        <div className="tags">
          <strong>{name}</strong>
          {extraTags.map((t) => (
            <span key={t} className="badge">
              {t}
            </span>
          ))}
        </div>
      </td>
      <td>
        <span className="copyable">
          <code title={img.id}>{shortId(img.id)}</code>
          <CopyButton text={img.id} label={`Copy id of ${name}`} />
        </span>
      </td>
      <td title={formatDate(img.created * 1000)}>{formatRelative(img.created * 1000)}</td>
      <td className="num">{formatBytes(img.size)}</td>
      <td>
        <div className="tags">
          {img.dangling && <span className="badge warn">dangling</span>}
          {img.containers > 0 && <span className="badge info">in use ({img.containers})</span>}
          <ExportOut selection={defaultSelection('engine', [exportName(img)])} label={name} compact />
          <button
            type="button"
            className="btn small"
            aria-label={`Details of ${name}`}
            onClick={(e) => {
              e.stopPropagation();
              props.onOpen();
            }}
          >
            Details
          </button>
        </div>
      </td>
    </tr>
  );
}
