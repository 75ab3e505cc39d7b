/**
 * Repositories → tags → platforms → layers, config and history. Each level reads through the contract
 * when opened; `registry.changed` events refresh what is open.
 */
import { useEffect, useState } from 'react';
import type { RepositorySummary, TagSummary } from '../../../../shared/api/registry';
import { Empty, ErrorNote, Loading } from '../../components/Bits';
import { Copyable } from '../../components/CopyButton';
import { Dialog } from '../../components/Dialog';
import { ExportOut } from '../../components/ExportOut';
import { LayerTable } from '../../components/LayerTable';
import { cleanCreatedBy, formatBytes, formatDate, formatRelative, plural, shortDigest } from '../../../../shared/format';
import { defaultSelection } from '../../lib/export-out';
import { summarizeConfig, summarizeManifest } from '../../lib/manifest';
import { useRegistry } from '../../store/registry';
import { toastError, toastOk } from '../../store/toasts';
import { ExportDialog } from '../ExportDialog';

export function RepositoryBrowser() {
  const { repositories, selectedRepo, selectRepo, status } = useRegistry();
  const list = repositories.data;
  return (
    <div className={`split browse${selectedRepo ? ' open' : ''}`} style={{ flex: '1 0 380px' }}>
      <div className="table-wrap">
        {repositories.error && !list && <ErrorNote error={repositories.error} what="Repositories" />}
        {!list && !repositories.error && <Loading what="repositories" />}
        {list && list.length === 0 && (
          <Empty title="No repositories yet">
            <p>
              Push an image to <code>{status.data?.address ?? 'the registry'}</code> (see Commands above), or drop a <code>docker save</code> archive on this window.
            </p>
          </Empty>
        )}
        {list && list.length > 0 && <RepositoryTable list={list} selected={selectedRepo} onSelect={selectRepo} compact={!!selectedRepo} />}
      </div>
      {selectedRepo && <RepositoryPanel key={selectedRepo} repo={selectedRepo} onClose={() => selectRepo(undefined)} />}
    </div>
  );
}

/** `compact`: a repository is open beside the list, which then keeps the columns that fit (the rest is in tooltips). */
function RepositoryTable({ list, selected, onSelect, compact }: { list: RepositorySummary[]; selected?: string; onSelect: (name: string) => void; compact: boolean }) {
  const move = (delta: number) => {
    const i = selected ? list.findIndex((r) => r.name === selected) : -1;
    const next = list[Math.max(0, Math.min(list.length - 1, i + delta))];
    if (next) onSelect(next.name);
  };
  return (
    <table
      className="grid"
      role="grid"
      aria-label="Repositories"
      tabIndex={0}
      onKeyDown={(e) => {
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          move(e.key === 'ArrowDown' ? 1 : -1);
        }
      }}
    >
      <thead>
        <tr>
          <th>Repository</th>
          <th className="num">Tags</th>
          <th className="num">Size</th>
          {!compact && (
            <th className="num" title="Bytes only this repository references: what deleting it would free">
              Exclusive
            </th>
          )}
          {!compact && <th>Updated</th>}
        </tr>
      </thead>
      <tbody>
        {list.map((r) => (
          <tr key={r.name} aria-selected={r.name === selected} onClick={() => onSelect(r.name)}>
            <td className="wrap name" title={compact ? `${r.name} — updated ${formatRelative(r.updatedAt)}` : undefined}>
              <strong>{r.name}</strong>
            </td>
            <td className="num">{r.tagCount}</td>
            <td className="num" title={compact ? `${formatBytes(r.exclusiveSize)} only in this repository` : undefined}>
              {formatBytes(r.size)}
            </td>
            {!compact && <td className="num">{formatBytes(r.exclusiveSize)}</td>}
            {!compact && <td title={formatDate(r.updatedAt)}>{formatRelative(r.updatedAt)}</td>}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function RepositoryPanel({ repo, onClose }: { repo: string; onClose: () => void }) {
  const tags = useRegistry((s) => s.tags[repo]);
  const address = useRegistry((s) => s.status.data?.address);
  const deleteTag = useRegistry((s) => s.deleteTag);
  const [tag, setTag] = useState<string>();
  const [confirm, setConfirm] = useState<TagSummary>();
  const [exporting, setExporting] = useState<string>();
  const list = tags?.data;
  const current = list?.find((t) => t.tag === tag);

  return (
    <aside className="panel" aria-label={`Repository ${repo}`}>
      <div className="panel-head">
        <h2>{repo}</h2>
        <span className="spacer" />
        <button type="button" className="btn small" aria-label="Close repository" onClick={onClose}>
          ×
        </button>
      </div>
      <div className="panel-body">
        {tags?.error && <ErrorNote error={tags.error} what="Tags" />}
        {!list && !tags?.error && <Loading what="tags" />}
        {list && list.length === 0 && <p className="muted">No tags: only untagged manifests remain. Reclaim space to remove them.</p>}
        {list && list.length > 0 && (
          <table className="grid" aria-label={`Tags of ${repo}`}>
            <thead>
              <tr>
                <th>Tag</th>
                <th>Digest</th>
                <th className="num">Size</th>
                <th>Platforms</th>
                <th>Updated</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {list.map((t) => (
                <tr key={t.tag} aria-selected={t.tag === tag} onClick={() => setTag(t.tag === tag ? undefined : t.tag)}>
                  <td>
                    <strong>{t.tag}</strong>
                  </td>
                  <td>
                    <Copyable text={`${address ? `${address}/` : ''}${repo}@${t.digest}`} shown={shortDigest(t.digest)} label={`Copy digest of ${t.tag}`} />
                  </td>
                  <td className="num">{formatBytes(t.size)}</td>
                  <td className="soft-wrap">{t.platforms.join(', ') || <span className="muted">—</span>}</td>
                  <td className="soft-wrap" title={formatDate(t.updatedAt)}>
                    {formatRelative(t.updatedAt)}
                  </td>
                  <td>
                    <div className="row" style={{ flexWrap: 'nowrap' }}>
                      <ExportOut selection={defaultSelection('registry', [`${repo}:${t.tag}`])} label={`${repo}:${t.tag}`} compact />
                      <button
                        type="button"
                        className="btn small"
                        aria-label={`Export ${repo}:${t.tag}`}
                        onClick={(e) => {
                          e.stopPropagation();
                          setExporting(`${repo}:${t.tag}`);
                        }}
                      >
                        Export
                      </button>
                      <button
                        type="button"
                        className="btn small danger"
                        aria-label={`Delete tag ${t.tag}`}
                        onClick={(e) => {
                          e.stopPropagation();
                          setConfirm(t);
                        }}
                      >
                        Delete
                      </button>
                    </div>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {current && <ManifestSection repo={repo} reference={current.tag} title={`${repo}:${current.tag}`} />}
      </div>
      {confirm && (
        <Dialog
          title={`Delete tag ${repo}:${confirm.tag}?`}
          onClose={() => setConfirm(undefined)}
          footer={
            <>
              <button type="button" className="btn" onClick={() => setConfirm(undefined)}>
                Cancel
              </button>
              <button
                type="button"
                className="btn danger solid"
                onClick={async () => {
                  const t = confirm;
                  setConfirm(undefined);
                  try {
                    await deleteTag(repo, t.tag);
                    toastOk(`Deleted ${repo}:${t.tag}`);
                  } catch (err) {
                    toastError(err, `Delete ${repo}:${t.tag}`);
                  }
                }}
              >
                Delete tag
              </button>
            </>
          }
        >
          <p>
            Only this tag goes; other tags of <code>{shortDigest(confirm.digest)}</code> stay. The space comes back with <strong>Reclaim space</strong> once nothing else references the
            layers.
          </p>
        </Dialog>
      )}
      {exporting && <ExportDialog from="registry" images={[exporting]} onClose={() => setExporting(undefined)} />}
    </aside>
  );
}

/** One manifest: for an index, its platforms (each opens below); for an image, layers, config and history. */
function ManifestSection({ repo, reference, title }: { repo: string; reference: string; title: string }) {
  const entry = useRegistry((s) => s.manifests[`${repo}@${reference}`]);
  const loadManifest = useRegistry((s) => s.loadManifest);
  const [platform, setPlatform] = useState<string>();
  useEffect(() => {
    if (!entry) void loadManifest(repo, reference);
  }, [entry, loadManifest, repo, reference]);
  if (entry?.error) return <ErrorNote error={entry.error} what={`Manifest of ${title}`} />;
  if (!entry?.data) return <Loading what="manifest" />;
  const m = entry.data;
  const sum = summarizeManifest(m.mediaType, m.manifest);
  return (
    <section className="section" aria-label={`Manifest of ${title}`}>
      <h3>{sum.kind === 'index' ? 'Index' : 'Manifest'}</h3>
      <dl className="kv">
        <dt>Digest</dt>
        <dd>
          <Copyable text={m.digest} shown={shortDigest(m.digest)} label={`Copy manifest digest of ${title}`} />
        </dd>
        <dt>Media type</dt>
        <dd>
          <code>{m.mediaType}</code>
        </dd>
        {sum.kind === 'image' && sum.artifactType && (
          <>
            <dt>Artifact type</dt>
            <dd>
              <code>{sum.artifactType}</code>
            </dd>
          </>
        )}
      </dl>
      {sum.kind === 'index' ? (
        <>
          <table className="grid" aria-label="Platforms">
            <thead>
              <tr>
                <th>Platform</th>
                <th>Digest</th>
                <th className="num">Manifest</th>
              </tr>
            </thead>
            <tbody>
              {sum.platforms.map((p) => (
                <tr key={p.digest} aria-selected={platform === p.digest} onClick={() => setPlatform(platform === p.digest ? undefined : p.digest)}>
                  <td>{p.artifact ? <span className="badge">{p.platform}</span> : <strong>{p.platform}</strong>}</td>
                  <td>
                    <code>{shortDigest(p.digest)}</code>
                  </td>
                  <td className="num">{formatBytes(p.size)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {platform && <ManifestSection repo={repo} reference={platform} title={`${title} (${sum.platforms.find((p) => p.digest === platform)?.platform})`} />}
        </>
      ) : (
        <>
          <h3>Layers ({sum.layers.length}, {formatBytes(sum.layers.reduce((a, l) => a + l.size, 0))})</h3>
          <LayerTable layers={sum.layers} label="Layers" />
          {sum.config && <ConfigSection repo={repo} digest={sum.config.digest} />}
        </>
      )}
    </section>
  );
}

function ConfigSection({ repo, digest }: { repo: string; digest: string }) {
  const entry = useRegistry((s) => s.configs[`${repo}@${digest}`]);
  const loadConfig = useRegistry((s) => s.loadConfig);
  useEffect(() => {
    if (!entry) void loadConfig(repo, digest);
  }, [entry, loadConfig, repo, digest]);
  if (entry?.error) return <ErrorNote error={entry.error} what="Config" />;
  if (!entry || entry.loading || entry.data === undefined) return <Loading what="config" />;
  const c = summarizeConfig(entry.data);
  return (
    <>
      <h3>Config</h3>
      <dl className="kv">
        <dt>Platform</dt>
        <dd>{c.platform || '—'}</dd>
        <dt>Created</dt>
        <dd title={formatDate(c.created)}>{formatRelative(c.created)}</dd>
        <dt>Entrypoint</dt>
        <dd>{c.entrypoint.length ? <code>{JSON.stringify(c.entrypoint)}</code> : '—'}</dd>
        <dt>Cmd</dt>
        <dd>{c.cmd.length ? <code>{JSON.stringify(c.cmd)}</code> : '—'}</dd>
        <dt>Workdir</dt>
        <dd>{c.workingDir || '/'}</dd>
        <dt>User</dt>
        <dd>{c.user || 'root (default)'}</dd>
        <dt>Ports</dt>
        <dd>{c.exposedPorts.join(', ') || '—'}</dd>
        <dt>Env</dt>
        <dd>
          {c.env.map((e) => (
            <div key={e}>
              <code>{e}</code>
            </div>
          ))}
        </dd>
        {Object.keys(c.labels).length > 0 && (
          <>
            <dt>Labels</dt>
            <dd>
              {Object.entries(c.labels).map(([k, v]) => (
                <div key={k}>
                  <code>
                    {k}={v}
                  </code>
                </div>
              ))}
            </dd>
          </>
        )}
      </dl>
      <h3>History ({plural(c.history.length, 'step')})</h3>
      <table className="grid history" aria-label="History">
        <tbody>
          {c.history.map((h, i) => (
            <tr key={i}>
              <td className="cmd">{cleanCreatedBy(h.createdBy) || <span className="muted">(no command recorded)</span>}</td>
              <td className="muted">{h.emptyLayer ? 'no layer' : ''}</td>
              <td title={formatDate(h.created)}>{formatRelative(h.created)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}
