/** Everything about one image: config, env, labels, ports, platform, layers, history, containers using it. */
import type { ImageDetails, ImageSummary } from '../../../../shared/api/engine';
import { ErrorNote, Loading } from '../../components/Bits';
import { Copyable } from '../../components/CopyButton';
import { ExportOut } from '../../components/ExportOut';
import { defaultSelection, exportName } from '../../lib/export-out';
import { cleanCreatedBy, formatBytes, formatDate, formatRelative, shortDigest, shortId } from '../../../../shared/format';
import { useImages } from '../../store/images';

export function ImageDetailsPanel(props: { id: string; onClose: () => void; onTag: (img: ImageSummary) => void; onRemove: (img: ImageSummary) => void }) {
  const entry = useImages((s) => s.details[props.id]);
  const summary = useImages((s) => s.images.find((i) => i.id === props.id));
  const d = entry?.data;
  const title = d?.repoTags.find((t) => t !== '<none>:<none>') ?? summary?.repoTags.find((t) => t !== '<none>:<none>') ?? shortId(props.id);
  return (
    <aside className="panel" aria-label={`Details of ${title}`}>
      <div className="panel-head">
        <h2 title={title}>{title}</h2>
        <span className="spacer" />
        {summary && (
          <>
            <ExportOut selection={defaultSelection('engine', [exportName(summary)])} label={title} />
            <button type="button" className="btn small" onClick={() => props.onTag(summary)}>
              Tag…
            </button>
            <button type="button" className="btn small danger" onClick={() => props.onRemove(summary)}>
              Remove
            </button>
          </>
        )}
        <button type="button" className="btn small" aria-label="Close details" onClick={props.onClose}>
          ×
        </button>
      </div>
      <div className="panel-body">
        {entry?.error && <ErrorNote error={entry.error} what="Could not inspect this image" />}
        {!d && !entry?.error && <Loading what="details" />}
        {d && <DetailsBody d={d} />}
      </div>
    </aside>
  );
}

function List({ items, empty = '—' }: { items: string[]; empty?: string }) {
  if (items.length === 0) return <span className="muted">{empty}</span>;
  return (
    <ul className="list-plain">
      {items.map((x, i) => (
        <li key={i}>
          <code>{x}</code>
        </li>
      ))}
    </ul>
  );
}

function DetailsBody({ d }: { d: ImageDetails }) {
  const created = Date.parse(d.created);
  const labels = Object.entries(d.config.labels);
  return (
    <>
      <section className="section" aria-label="Overview">
        <dl className="kv">
          <dt>ID</dt>
          <dd>
            <Copyable text={d.id} shown={shortDigest(d.id)} label="Copy image id" />
          </dd>
          <dt>Tags</dt>
          <dd>
            <List items={d.repoTags.filter((t) => t !== '<none>:<none>')} empty="none (dangling)" />
          </dd>
          {d.repoDigests.length > 0 && (
            <>
              <dt>Digests</dt>
              <dd>
                {d.repoDigests.map((rd) => (
                  <div key={rd}>
                    <Copyable text={rd} shown={rd.replace(/@(sha256:[0-9a-f]{12})[0-9a-f]+$/, '@$1…')} label={`Copy ${rd}`} />
                  </div>
                ))}
              </dd>
            </>
          )}
          <dt>Created</dt>
          <dd title={formatDate(created)}>{formatRelative(created)}</dd>
          <dt>Size</dt>
          <dd>{formatBytes(d.size)}</dd>
          <dt>OS/Arch</dt>
          <dd>{[d.os, d.architecture, d.variant].filter(Boolean).join('/')}</dd>
          {d.author && (
            <>
              <dt>Author</dt>
              <dd>{d.author}</dd>
            </>
          )}
          <dt>Used by</dt>
          <dd>
            {d.usedBy.length === 0 ? (
              <span className="muted">no containers</span>
            ) : (
              d.usedBy.map((c) => (
                <div key={c.id}>
                  <strong>{c.name}</strong> <span className="muted">({c.state})</span>
                </div>
              ))
            )}
          </dd>
        </dl>
      </section>

      <section className="section" aria-label="Config">
        <h3>Config</h3>
        <dl className="kv">
          <dt>Entrypoint</dt>
          <dd>{d.config.entrypoint.length ? <code>{JSON.stringify(d.config.entrypoint)}</code> : <span className="muted">—</span>}</dd>
          <dt>Cmd</dt>
          <dd>{d.config.cmd.length ? <code>{JSON.stringify(d.config.cmd)}</code> : <span className="muted">—</span>}</dd>
          <dt>Workdir</dt>
          <dd>{d.config.workingDir ? <code>{d.config.workingDir}</code> : <span className="muted">/</span>}</dd>
          <dt>User</dt>
          <dd>{d.config.user ? <code>{d.config.user}</code> : <span className="muted">root (default)</span>}</dd>
          <dt>Ports</dt>
          <dd>
            <List items={d.config.exposedPorts} empty="none exposed" />
          </dd>
          <dt>Env</dt>
          <dd>
            <List items={d.config.env} />
          </dd>
          <dt>Labels</dt>
          <dd>
            <List items={labels.map(([k, v]) => `${k}=${v}`)} />
          </dd>
        </dl>
      </section>

      <section className="section" aria-label="Layers">
        <h3>Layers ({d.layers.length})</h3>
        <ol className="list-plain">
          {d.layers.map((l, i) => (
            <li key={`${l}-${i}`}>
              <Copyable text={l} shown={`${i + 1}. ${shortDigest(l)}`} label={`Copy layer ${i + 1} diff id`} />
            </li>
          ))}
        </ol>
      </section>

      <section className="section" aria-label="History">
        <h3>History ({d.history.length} steps)</h3>
        <table className="grid history">
          <thead>
            <tr>
              <th>Created by</th>
              <th className="num">Size</th>
              <th>When</th>
            </tr>
          </thead>
          <tbody>
            {d.history.map((h, i) => (
              <tr key={i}>
                <td className="cmd">{cleanCreatedBy(h.createdBy) || <span className="muted">(no command recorded)</span>}</td>
                <td className="num">{h.emptyLayer ? <span className="muted">—</span> : formatBytes(h.size)}</td>
                <td title={formatDate(h.created * 1000)}>{formatRelative(h.created * 1000)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
