/**
 * The local container engine (Docker, or Podman's Docker-compatible API) through dockerode.
 *
 * Connection: discovery lists candidate endpoints; the first that answers `/_ping` wins. `watch()` follows
 * the engine's event stream, publishes `engine.images-changed` (debounced) when images or the containers
 * that use them change, and `engine.status` whenever the connection comes or goes; when the engine goes
 * away it retries with backoff and reconnects when it returns. When the engine the user named (DOCKER_HOST,
 * the docker context) did not answer and Berth fell back to another one, it keeps pinging the named one
 * (backoff, only while on the fallback) and switches back as soon as it answers: otherwise images would go
 * on landing in the wrong engine until a restart. While connected it also pings the engine in use now and
 * then: an engine behind tcp:// or ssh:// can vanish without closing the connection (a laptop that slept,
 * a VPN that dropped), and the event stream would wait on it forever, the status saying "connected".
 *
 * Errors: a socket that does not answer is ENGINE_UNAVAILABLE with a hint a person can act on; an engine
 * that answers with an error is ENGINE_ERROR with the engine's own message (NOT_FOUND / CONFLICT where
 * the engine says so).
 */
import { readFileSync } from 'node:fs';
import { Agent as HttpsAgent } from 'node:https';
import { homedir, platform as osPlatform } from 'node:os';
import type Docker from 'dockerode';
import type { EventBus } from '../app/events';
import type { JobContext } from '../transfers/jobs';
import type { ContainerRef, EngineEndpoint, EngineStatus, ImageDetails, ImageHistoryStep, ImageSummary } from '../../shared/api/engine';
import { BerthError } from '../../shared/errors';
import { parseNormalizedReference, parseTagTarget } from '../../shared/reference';
import { discoverEngines, nodeFsProbe, parseDockerHost, type DiscoveryInput, type EngineCandidate } from './discovery';
import { messageError, readJsonLines, type JsonMessage } from './json-messages';

export interface EngineServiceOptions {
  events: EventBus;
  log: (line: string) => void;
  /** When given, the only endpoint tried (e.g. a test's private dockerd); else discovery. */
  dockerHost?: string;
  /** Discovery inputs (tests); defaults to this process's env, home directory and platform. */
  discovery?: Partial<DiscoveryInput>;
  /** Reconnect backoff, in ms. */
  retry?: { minMs: number; maxMs: number };
  /** How long an endpoint may take to answer /_ping before the next is tried. */
  pingTimeoutMs?: number;
  /** While on a fallback: how often the endpoint the user named is pinged again (backoff), in ms. */
  preferredProbe?: { minMs: number; maxMs: number };
  /** While watching and connected: how often the engine in use is pinged to see it is still there. */
  heartbeatMs?: number;
  /** Quiet period before a burst of engine events becomes one `engine.images-changed`. */
  debounceMs?: number;
}

/** Image events that change what the Images view shows; container events that change "in use". */
const IMAGE_ACTIONS = new Set(['pull', 'tag', 'untag', 'delete', 'import', 'load', 'create', 'prune']);
const CONTAINER_ACTIONS = new Set(['create', 'destroy', 'rename']);

export interface LoadProgress {
  /** Layer id or image being loaded, as the engine names it. */
  id?: string;
  status: string;
  current?: number;
  total?: number;
}

export class EngineService {
  private docker?: Docker;
  private endpoint?: EngineCandidate;
  private current: EngineStatus = { connected: false };
  private attempted = false;
  private connecting?: Promise<EngineStatus>;
  private watching = false;
  private closed = false;
  private eventsAbort?: AbortController;
  private retryTimer?: NodeJS.Timeout;
  private retryDelay: number;
  /** Ends the watch loop's backoff early (a refresh found the engine while the loop was waiting). */
  private wake?: () => void;
  private debounceTimer?: NodeJS.Timeout;
  /**
   * The endpoints the user named (DOCKER_HOST, the docker context) that failed before the one in use
   * answered: empty unless Berth is on a fallback. The watch loop's probe pings them.
   */
  private preferred: EngineCandidate[] = [];
  private probeTimer?: NodeJS.Timeout;
  private probing = false;
  private probeDelay: number;
  private readonly probeBackoff: { minMs: number; maxMs: number };
  private heartbeatTimer?: NodeJS.Timeout;
  private heartbeating = false;
  private readonly retry: { minMs: number; maxMs: number };
  private readonly pingTimeoutMs: number;
  private readonly debounceMs: number;

  constructor(readonly options: EngineServiceOptions) {
    this.retry = options.retry ?? { minMs: 1000, maxMs: 10_000 };
    this.retryDelay = this.retry.minMs;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 3000;
    this.debounceMs = options.debounceMs ?? 250;
    this.probeBackoff = options.preferredProbe ?? { minMs: 2000, maxMs: 30_000 };
    this.probeDelay = this.probeBackoff.minMs;
  }

  // ── Connection ────────────────────────────────────────────────────────────────────────────────────

  /** The last known status (connect() or watch() keep it current). */
  status(): EngineStatus {
    return structuredClone(this.current);
  }

  /** The status, connecting first when asked to or when no attempt was made yet. */
  async getStatus(refresh = false): Promise<EngineStatus> {
    if (refresh || !this.attempted) return this.connect();
    return this.status();
  }

  /** Tries the candidates in order and keeps the first that answers. Concurrent calls share one attempt. */
  connect(): Promise<EngineStatus> {
    this.connecting ??= this.tryCandidates().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  /** Follow the engine: its events while connected, reconnect with backoff while not. */
  watch(): void {
    if (this.watching || this.closed) return;
    this.watching = true;
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.options.heartbeatMs ?? 30_000);
    void this.watchCycle();
  }

  close(): void {
    this.closed = true;
    this.watching = false;
    clearTimeout(this.debounceTimer);
    clearTimeout(this.probeTimer);
    clearInterval(this.heartbeatTimer);
    this.wake?.(); // lets the watch loop see `closed` and end
    this.eventsAbort?.abort();
  }

  private candidates(): { candidates: EngineCandidate[]; problems: EngineEndpoint[] } {
    if (this.options.dockerHost) {
      try {
        return { candidates: [parseDockerHost(this.options.dockerHost, 'configured')], problems: [] };
      } catch (err) {
        return { candidates: [], problems: [{ kind: 'tcp', address: this.options.dockerHost, source: 'configured', error: (err as Error).message }] };
      }
    }
    const d = this.options.discovery ?? {};
    return discoverEngines({
      env: d.env ?? process.env,
      home: d.home ?? homedir(),
      platform: d.platform ?? osPlatform(),
      fs: d.fs ?? nodeFsProbe,
    });
  }

  private async tryCandidates(): Promise<EngineStatus> {
    const { candidates, problems } = this.candidates();
    const tried: EngineEndpoint[] = [...problems];
    for (const candidate of candidates) {
      try {
        const docker = await createClient(candidate);
        const raw = docker as unknown as UntypedCalls;
        await raw.ping({ abortSignal: AbortSignal.timeout(this.pingTimeoutMs) });
        const v = await raw.version({ abortSignal: AbortSignal.timeout(this.pingTimeoutMs) });
        const status: EngineStatus = {
          connected: true,
          endpoint: publicEndpoint(candidate),
          name: engineName(v),
          version: v.Version,
          apiVersion: v.ApiVersion,
          os: v.Os,
          arch: v.Arch,
          tried: [...tried, publicEndpoint(candidate)],
        };
        this.preferred = candidates.filter((c) => isNamed(c) && tried.some((t) => t.kind === c.kind && t.address === c.address));
        // A malformed DOCKER_HOST is never pinged again, so only a named endpoint that failed to answer
        // can be switched back to.
        const warning = fallbackWarning(tried, candidate, this.watching && this.preferred.length > 0);
        if (warning) status.warning = warning;
        this.setStatus(status, docker, candidate);
        return this.status();
      } catch (err) {
        tried.push({ ...publicEndpoint(candidate), error: describeConnectionError(err, this.pingTimeoutMs) });
      }
    }
    this.setStatus(
      {
        connected: false,
        error: tried.length ? 'No container engine answered.' : 'No container engine was found.',
        hint: connectionHint(tried, this.options.discovery?.platform ?? osPlatform()),
        tried,
      },
      undefined,
      undefined,
    );
    this.preferred = [];
    return this.status();
  }

  private setStatus(status: EngineStatus, docker: Docker | undefined, endpoint: EngineCandidate | undefined): void {
    const first = !this.attempted;
    this.attempted = true;
    const before = this.current;
    const moved = first || before.connected !== status.connected || before.endpoint?.address !== status.endpoint?.address;
    this.docker = docker;
    this.endpoint = endpoint;
    this.current = status;
    if (moved || before.version !== status.version) {
      this.options.log(
        status.connected
          ? `engine: connected to ${status.name} ${status.version} at ${status.endpoint?.address} (${status.endpoint?.source})`
          : `engine: not connected — ${status.error}`,
      );
      this.options.events.publish({ type: 'engine.status', status: this.status() });
      // Whatever happened while we were away (or on another engine), the list may have changed.
      if (status.connected) this.options.events.publish({ type: 'engine.images-changed' });
    }
    // A different engine answered first now: restart the event stream on it.
    if (moved && this.eventsAbort && !this.eventsAbort.signal.aborted) this.eventsAbort.abort();
    if (status.connected) this.wake?.();
    if (moved) this.probeDelay = this.probeBackoff.minMs;
    this.schedulePreferredProbe();
  }

  /**
   * The engine in use must answer /_ping in time; when it does not, the event stream is dropped so the
   * watch loop reconnects (and says "not connected" if nothing answers). A false alarm costs one restart
   * of the event stream and no status change.
   */
  private async heartbeat(): Promise<void> {
    const docker = this.docker;
    if (!docker || !this.current.connected || this.heartbeating || this.closed) return;
    this.heartbeating = true;
    try {
      await (docker as unknown as UntypedCalls).ping({ abortSignal: AbortSignal.timeout(this.pingTimeoutMs) });
    } catch (err) {
      if (this.docker === docker && !this.closed) {
        this.options.log(`engine: ${this.endpoint?.address} stopped answering (${describeConnectionError(err, this.pingTimeoutMs)}); reconnecting`);
        this.eventsAbort?.abort();
      }
    } finally {
      this.heartbeating = false;
    }
  }

  /** Arms the next ping of the named endpoints while watching on a fallback; disarms it otherwise. */
  private schedulePreferredProbe(): void {
    const onFallback = this.watching && !this.closed && this.current.connected && this.preferred.length > 0;
    if (!onFallback) {
      clearTimeout(this.probeTimer);
      this.probeTimer = undefined;
      return;
    }
    if (this.probeTimer || this.probing) return;
    const delay = this.probeDelay;
    this.probeDelay = Math.min(this.probeBackoff.maxMs, this.probeDelay * 2);
    this.probeTimer = setTimeout(() => {
      this.probeTimer = undefined;
      void this.probePreferred();
    }, delay);
  }

  /**
   * One cheap `/_ping` to each named endpoint. When one answers, a full connect() (which tries the
   * candidates in order, so the named one first) switches over, publishes engine.status without the
   * warning and restarts the event stream on it; else the next probe waits longer.
   */
  private async probePreferred(): Promise<void> {
    this.probing = true;
    try {
      let answered: EngineCandidate | undefined;
      for (const candidate of this.preferred) {
        if (await answersPing(candidate, this.pingTimeoutMs)) {
          answered = candidate;
          break;
        }
      }
      if (answered && !this.closed) {
        this.options.log(`engine: ${answered.address} (${answered.source}) answers again; switching back to it`);
        await this.connect();
      }
    } finally {
      this.probing = false;
    }
    this.schedulePreferredProbe();
  }

  private async watchCycle(): Promise<void> {
    let status = await this.connect();
    this.schedulePreferredProbe(); // connect() may have settled before watch() began
    while (this.watching && !this.closed) {
      const docker = this.docker;
      if (!status.connected || !docker) {
        await this.backoff();
        if (this.closed) return;
        status = await this.connect();
        continue;
      }
      const started = Date.now();
      try {
        await this.followEvents(docker);
      } catch {
        // The stream broke: the loop reconnects (or says the engine is gone).
      }
      if (this.closed) return;
      // Another engine took over meanwhile (the switch back to DOCKER_HOST): follow it, it just answered.
      if (this.docker && this.docker !== docker && this.current.connected) {
        status = this.status();
        continue;
      }
      // An engine that answers /_ping but drops /events at once must not make this loop spin.
      if (Date.now() - started < 2000) await this.backoff();
      else this.retryDelay = this.retry.minMs;
      if (this.closed) return;
      status = await this.connect();
    }
  }

  private backoff(): Promise<void> {
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retry.maxMs, this.retryDelay * 2);
    return new Promise((resolve) => {
      this.wake = () => {
        clearTimeout(this.retryTimer);
        this.wake = undefined;
        resolve();
      };
      this.retryTimer = setTimeout(this.wake, delay);
    });
  }

  private async followEvents(docker: Docker): Promise<void> {
    const abort = new AbortController();
    this.eventsAbort = abort;
    const stream = (await docker.getEvents({
      filters: { type: ['image', 'container'] },
      abortSignal: abort.signal,
    } as Docker.GetEventsOptions)) as NodeJS.ReadableStream;
    await readJsonLines<EngineEvent>(stream, (e) => this.onEngineEvent(e));
  }

  private onEngineEvent(e: EngineEvent): void {
    const type = e.Type ?? e.type;
    const action = (e.Action ?? e.status ?? '').split(':')[0];
    const relevant = type === 'image' ? IMAGE_ACTIONS.has(action) : type === 'container' && CONTAINER_ACTIONS.has(action);
    if (!relevant) return;
    clearTimeout(this.debounceTimer);
    this.debounceTimer = setTimeout(() => this.options.events.publish({ type: 'engine.images-changed' }), this.debounceMs);
  }

  /** The connected client; connects on demand (the CLI never calls watch()). */
  private async client(): Promise<Docker> {
    if (!this.docker) await this.connect();
    if (!this.docker) {
      const s = this.current;
      throw new BerthError('ENGINE_UNAVAILABLE', [s.error, s.hint].filter(Boolean).join(' '), { tried: s.tried });
    }
    return this.docker;
  }

  /** Runs one engine call and turns its failure into a BerthError a person can act on. */
  private async call<T>(what: string, fn: (docker: Docker) => Promise<T>): Promise<T> {
    const docker = await this.client();
    try {
      return await fn(docker);
    } catch (err) {
      throw this.mapError(err, what);
    }
  }

  private mapError(err: unknown, what: string): BerthError {
    if (err instanceof BerthError) return err;
    const e = err as DockerodeError;
    if (e?.name === 'AbortError' || e?.code === 'ABORT_ERR') return new BerthError('CANCELLED', 'Cancelled');
    if (typeof e?.statusCode === 'number') {
      const message = engineMessage(e);
      if (e.statusCode === 404) return new BerthError('NOT_FOUND', message);
      if (e.statusCode === 409) return new BerthError('CONFLICT', message);
      return new BerthError('ENGINE_ERROR', `${what}: ${message}`);
    }
    // No HTTP answer: the engine went away. Re-check now so the banner appears without waiting.
    if (this.watching) this.eventsAbort?.abort();
    else void this.connect();
    const endpoint = this.endpoint ? ` at ${this.endpoint.address}` : '';
    return new BerthError(
      'ENGINE_UNAVAILABLE',
      `The container engine${endpoint} stopped answering (${describeConnectionError(err, this.pingTimeoutMs)}). Check that it is running; Berth reconnects when it returns.`,
    );
  }

  // ── Images ────────────────────────────────────────────────────────────────────────────────────────

  async listImages(): Promise<ImageSummary[]> {
    return this.call('Listing images failed', async (d) => {
      const [images, containers] = await Promise.all([d.listImages({ all: false }), d.listContainers({ all: true })]);
      const useCount = new Map<string, number>();
      for (const c of containers) useCount.set(c.ImageID, (useCount.get(c.ImageID) ?? 0) + 1);
      return images.map((i): ImageSummary => {
        const repoTags = realTags(i.RepoTags);
        return {
          id: i.Id,
          repoTags,
          repoDigests: (i.RepoDigests ?? []).filter((r) => r !== '<none>@<none>'),
          created: i.Created,
          size: i.Size,
          dangling: repoTags.length === 0,
          containers: useCount.get(i.Id) ?? 0,
          labels: i.Labels ?? {},
        };
      });
    });
  }

  async inspectImage(id: string): Promise<ImageDetails> {
    checkImageRef(id);
    return this.call('Inspecting the image failed', async (d) => {
      const image = d.getImage(id);
      const info = (await image.inspect()) as ImageInspect;
      const [history, usedBy] = await Promise.all([image.history() as Promise<HistoryEntry[]>, this.containersUsing(d, info.Id)]);
      const c = info.Config ?? {};
      return {
        id: info.Id,
        repoTags: realTags(info.RepoTags),
        repoDigests: info.RepoDigests ?? [],
        created: info.Created,
        size: info.Size,
        os: info.Os,
        architecture: info.Architecture,
        ...(info.Variant ? { variant: info.Variant } : {}),
        ...(info.Author ? { author: info.Author } : {}),
        config: {
          entrypoint: asArray(c.Entrypoint),
          cmd: asArray(c.Cmd),
          env: c.Env ?? [],
          labels: c.Labels ?? {},
          exposedPorts: Object.keys(c.ExposedPorts ?? {}),
          workingDir: c.WorkingDir ?? '',
          user: c.User ?? '',
        },
        layers: info.RootFS?.Layers ?? [],
        history: history.map(historyStep),
        usedBy,
      };
    });
  }

  /** `docker tag`: the target is validated first; nothing reaches the engine when it is malformed. */
  async tagImage(id: string, target: string): Promise<{ reference: string }> {
    checkImageRef(id);
    const parsed = parseTagTarget(target);
    if (!parsed.ok) {
      throw new BerthError('INVALID_INPUT', `"${target}" is not a valid tag: ${parsed.error.reason}`, parsed.error);
    }
    const { familiarName, tag, familiar } = parsed.value;
    await this.call('Tagging failed', (d) => d.getImage(id).tag({ repo: familiarName, tag }));
    return { reference: familiar };
  }

  /** `docker rmi`. When a container uses the image the CONFLICT names it, so the user knows what to stop. */
  async removeImage(id: string, force = false): Promise<{ deleted: string[]; untagged: string[] }> {
    checkImageRef(id);
    const d = await this.client();
    try {
      const result = (await d.getImage(id).remove({ force })) as Array<{ Deleted?: string; Untagged?: string }>;
      return {
        deleted: result.flatMap((r) => (r.Deleted ? [r.Deleted] : [])),
        untagged: result.flatMap((r) => (r.Untagged ? [r.Untagged] : [])),
      };
    } catch (err) {
      const mapped = this.mapError(err, 'Removing the image failed');
      if (mapped.code !== 'CONFLICT') throw mapped;
      throw await this.explainConflict(d, id, force, mapped.message);
    }
  }

  /** Removes dangling images (no tag), like `docker image prune`. */
  async pruneImages(): Promise<{ deleted: string[]; spaceReclaimed: number }> {
    return this.call('Pruning images failed', async (d) => {
      const r = (await d.pruneImages({ filters: { dangling: ['true'] } })) as {
        ImagesDeleted?: Array<{ Deleted?: string; Untagged?: string }> | null;
        SpaceReclaimed?: number;
      };
      return {
        deleted: (r.ImagesDeleted ?? []).flatMap((x) => (x.Deleted ? [x.Deleted] : [])),
        spaceReclaimed: r.SpaceReclaimed ?? 0,
      };
    });
  }

  private async containersUsing(d: Docker, imageId: string): Promise<ContainerRef[]> {
    const containers = await d.listContainers({ all: true });
    return containers
      .filter((c) => c.ImageID === imageId)
      .map((c) => ({ id: c.Id, name: (c.Names?.[0] ?? c.Id.slice(0, 12)).replace(/^\//, ''), state: c.State }));
  }

  private async explainConflict(d: Docker, id: string, force: boolean, engineText: string): Promise<BerthError> {
    let info: ImageInspect | undefined;
    try {
      info = (await d.getImage(id).inspect()) as ImageInspect;
    } catch {
      return new BerthError('CONFLICT', engineText);
    }
    const label = imageLabel(id, info);
    const users = await this.containersUsing(d, info.Id).catch(() => [] as ContainerRef[]);
    if (users.length) {
      const running = users.filter((c) => c.state === 'running');
      const list = joinNames(users.map((c) => `${c.name} (${c.state})`));
      const message =
        force && running.length
          ? `Image ${label} is used by running container${running.length > 1 ? 's' : ''} ${joinNames(running.map((c) => c.name))}. Stop ${running.length > 1 ? 'them' : 'it'} first: even force cannot remove an image a running container uses.`
          : `Image ${label} is used by container${users.length > 1 ? 's' : ''} ${list}. Stop and remove ${users.length > 1 ? 'them' : 'it'}, or force.`;
      return new BerthError('CONFLICT', message, { containers: users });
    }
    const tags = realTags(info.RepoTags);
    if (tags.length > 1) {
      return new BerthError('CONFLICT', `Image ${label} has ${tags.length} tags (${tags.join(', ')}). Remove a tag, or force to remove the image and all its tags.`, { tags });
    }
    return new BerthError('CONFLICT', engineText);
  }

  // ── Streams for archives, pull and push ───────────────────────────────────────────────────────────

  /** `docker save`: a docker-archive tar stream of the given references or ids. Abort reaches the socket. */
  async saveImages(refs: string[], signal: AbortSignal): Promise<NodeJS.ReadableStream> {
    if (refs.length === 0) throw new BerthError('INVALID_INPUT', 'Name at least one image to export');
    return this.call('Exporting from the engine failed', async (d) => {
      const stream = await (d as unknown as UntypedCalls).getImages({ names: refs, abortSignal: signal });
      // The response is not bound to the signal once headers arrived; destroy it on abort.
      const onAbort = () => (stream as NodeJS.ReadableStream & { destroy(e?: Error): void }).destroy(abortError(signal));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      stream.on('close', () => signal.removeEventListener('abort', onAbort));
      return stream;
    });
  }

  /**
   * `docker load`: streams a tar (docker-archive or OCI layout) into the engine; reports the engine's
   * progress messages; resolves with what the engine says it loaded (tags, or image ids when untagged).
   */
  async loadImages(tar: NodeJS.ReadableStream, signal: AbortSignal, onProgress?: (p: LoadProgress) => void): Promise<{ loaded: string[] }> {
    return this.call('Loading into the engine failed', async (d) => {
      const response = (await d.loadImage(tar, { quiet: false, abortSignal: signal } as object)) as NodeJS.ReadableStream;
      const loaded: string[] = [];
      await this.readMessages('The engine could not load the archive', response, signal, (m) => {
        const text = m.stream?.trim();
        const found = text?.match(/^Loaded image(?: ID)?: (.+)$/);
        if (found) loaded.push(found[1]);
        else if (m.status) onProgress?.({ id: m.id, status: m.status, current: m.progressDetail?.current, total: m.progressDetail?.total });
      });
      if (loaded.length === 0) throw new BerthError('ENGINE_ERROR', 'The engine loaded nothing from the archive (is it a docker save or OCI archive?)');
      return { loaded };
    });
  }

  /** `docker pull` with per-layer progress as job items. `auth` is the X-Registry-Auth object, if any. */
  async pullImage(ref: string, ctx: JobContext, auth?: Record<string, string>): Promise<{ reference: string }> {
    const parsed = parseNormalizedReference(ref);
    if (!parsed.ok) throw new BerthError('INVALID_INPUT', `"${ref}" is not a valid image reference: ${parsed.error.reason}`, parsed.error);
    const { familiarName, tag, digest } = parsed.value;
    const reference = digest ? `${familiarName}@${digest}` : `${familiarName}:${tag ?? 'latest'}`;
    return this.call(`Pulling ${reference} failed`, async (d) => {
      const opts = { abortSignal: ctx.signal, ...(auth ? { authconfig: auth } : {}) };
      const stream = (await d.pull(reference, opts)) as NodeJS.ReadableStream;
      await this.readMessages(`Pulling ${reference} failed`, stream, ctx.signal, layerProgress(ctx));
      return { reference };
    });
  }

  /** `docker push` of one tagged reference, with per-layer progress as job items. */
  async pushImage(ref: string, ctx: JobContext, auth?: Record<string, string>): Promise<{ reference: string; digest?: string }> {
    const parsed = parseTagTarget(ref);
    if (!parsed.ok) throw new BerthError('INVALID_INPUT', `"${ref}" is not a valid image reference: ${parsed.error.reason}`, parsed.error);
    const { familiarName, tag, familiar } = parsed.value;
    return this.call(`Pushing ${familiar} failed`, async (d) => {
      const stream = (await d.getImage(familiarName).push({ tag, abortSignal: ctx.signal, ...(auth ? { authconfig: auth } : {}) })) as NodeJS.ReadableStream;
      let digest: string | undefined;
      const onLayer = layerProgress(ctx);
      await this.readMessages(`Pushing ${familiar} failed`, stream, ctx.signal, (m) => {
        const found = m.status?.match(/digest: (sha256:[a-f0-9]{64})/);
        if (found) digest = found[1];
        else onLayer(m);
      });
      return { reference: familiar, ...(digest ? { digest } : {}) };
    });
  }

  /** Reads an engine JSON stream; an error message in it fails the call with the engine's text. */
  private async readMessages(what: string, stream: NodeJS.ReadableStream, signal: AbortSignal, onMessage: (m: JsonMessage) => void): Promise<void> {
    const onAbort = () => (stream as NodeJS.ReadableStream & { destroy(e?: Error): void }).destroy(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await readJsonLines<JsonMessage>(stream, (m) => {
        const error = messageError(m);
        if (error) throw new BerthError('ENGINE_ERROR', `${what}: ${error}`);
        onMessage(m);
      });
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
    if (signal.aborted) throw abortError(signal);
  }
}

// ── Helpers ─────────────────────────────────────────────────────────────────────────────────────────

interface DockerodeError extends Error {
  statusCode?: number;
  json?: { message?: string } | Buffer | null;
  reason?: string;
  code?: string;
}

/** dockerode calls whose typings lack the options we pass (abortSignal) or the method itself. */
interface UntypedCalls {
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
  version(opts: { abortSignal: AbortSignal }): Promise<VersionInfo>;
  getImages(opts: { names: string[]; abortSignal: AbortSignal }): Promise<NodeJS.ReadableStream>;
}

interface VersionInfo {
  Version?: string;
  ApiVersion?: string;
  Os?: string;
  Arch?: string;
  Platform?: { Name?: string };
  Components?: Array<{ Name?: string; Version?: string }>;
}

interface EngineEvent {
  Type?: string;
  type?: string;
  Action?: string;
  status?: string;
}

interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Created: string;
  Size: number;
  Os: string;
  Architecture: string;
  Variant?: string;
  Author?: string;
  Config?: {
    Entrypoint?: string[] | string | null;
    Cmd?: string[] | string | null;
    Env?: string[] | null;
    Labels?: Record<string, string> | null;
    ExposedPorts?: Record<string, unknown> | null;
    WorkingDir?: string;
    User?: string;
  } | null;
  RootFS?: { Layers?: string[] };
}

interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Size: number;
  Comment: string;
  Tags: string[] | null;
}

/**
 * A dockerode client for one endpoint. docker-modem also reads DOCKER_HOST and friends from the
 * environment and would let them override the endpoint we chose (or throw on a malformed value), so
 * those variables are hidden while the client is built; discovery has already taken them into account.
 */
/**
 * dockerode (with docker-modem and ssh2) costs ~27 MB of memory once loaded: load it when an engine is
 * first tried, not when Berth starts, so a `berth registry` or a CLI chore on a machine without an
 * engine never pays for it.
 */
let dockerode: Promise<typeof Docker> | undefined;
const loadDockerode = () => (dockerode ??= import('dockerode').then((m) => m.default));

export async function createClient(c: EngineCandidate): Promise<Docker> {
  const DockerClient = await loadDockerode();
  const base = { host: undefined, port: undefined, protocol: undefined, pathPrefix: undefined, ca: undefined, cert: undefined, key: undefined };
  let opts: Docker.DockerOptions;
  if (c.kind === 'unix' || c.kind === 'npipe') opts = { ...base, socketPath: c.address };
  else if (c.kind === 'ssh') {
    const url = new URL(c.address);
    opts = { ...base, protocol: 'ssh', host: url.hostname, port: url.port || 22, username: decodeURIComponent(url.username), sshOptions: { agent: process.env.SSH_AUTH_SOCK } } as Docker.DockerOptions;
  } else {
    const url = new URL(c.address.replace(/^tcp:/, 'http:'));
    const read = (p?: string) => (p ? readFileSync(p) : undefined);
    const tls = { ca: read(c.tlsFiles?.ca), cert: read(c.tlsFiles?.cert), key: read(c.tlsFiles?.key) };
    opts = { ...base, host: url.hostname, port: url.port, protocol: c.tls ? 'https' : 'http', ...tls };
    // A context with SkipTLSVerify (or TLS without DOCKER_TLS_VERIFY): encrypt, but accept the engine's
    // self-signed certificate, as the docker CLI does. docker-modem has no switch for it; an agent does.
    if (c.tls && c.tlsVerify === false) Object.assign(opts, { agent: new HttpsAgent({ ...tls, rejectUnauthorized: false }) });
  }
  const hidden = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_PATH_PREFIX', 'DOCKER_CLIENT_TIMEOUT'];
  const saved = hidden.map((k) => [k, process.env[k]] as const);
  for (const k of hidden) delete process.env[k];
  try {
    return new DockerClient(opts); // synchronous: nothing else can observe the hidden variables
  } finally {
    for (const [k, v] of saved) if (v !== undefined) process.env[k] = v;
  }
}

/** True when the endpoint answers `/_ping` in time; any failure is simply "not yet". */
async function answersPing(c: EngineCandidate, timeoutMs: number): Promise<boolean> {
  try {
    await ((await createClient(c)) as unknown as UntypedCalls).ping({ abortSignal: AbortSignal.timeout(timeoutMs) });
    return true;
  } catch {
    return false;
  }
}

/** An endpoint the user chose (as opposed to one found in a usual place). */
function isNamed(e: EngineEndpoint): boolean {
  return e.source === 'DOCKER_HOST' || e.source.startsWith('context:');
}

function publicEndpoint(c: EngineCandidate): EngineEndpoint {
  return { kind: c.kind, address: c.address, source: c.source, ...(c.tls ? { tls: true } : {}) };
}

function engineName(v: VersionInfo): string {
  if (v.Platform?.Name) return v.Platform.Name;
  const podman = v.Components?.find((c) => /podman/i.test(c.Name ?? ''));
  if (podman) return 'Podman Engine';
  return 'Docker Engine';
}

/** A short, human reason why an endpoint did not answer. */
export function describeConnectionError(err: unknown, timeoutMs: number): string {
  const e = err as DockerodeError & { errno?: number };
  switch (e?.code) {
    case 'ENOENT':
      return 'no socket there';
    case 'ECONNREFUSED':
      return 'connection refused: nothing is listening';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'the connection was dropped';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'ETIMEDOUT':
      return 'timed out';
  }
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  if (typeof e?.statusCode === 'number') return `answered HTTP ${e.statusCode}, which is not a Docker API`;
  return e?.message || String(err);
}

export function connectionHint(tried: EngineEndpoint[], platform: NodeJS.Platform): string {
  const denied = tried.find((t) => t.error === 'permission denied');
  if (denied && platform === 'linux') {
    return `Berth may not use ${denied.address}: add your user to the 'docker' group (sudo usermod -aG docker $USER), then log out and in again.`;
  }
  const start =
    platform === 'darwin'
      ? 'Start Docker Desktop (or Colima, Rancher Desktop, OrbStack or a Podman machine)'
      : platform === 'win32'
        ? 'Start Docker Desktop (or a Podman machine)'
        : 'Start the Docker daemon (sudo systemctl start docker; rootless: systemctl --user start docker), Docker Desktop or Podman (systemctl --user start podman.socket)';
  const where = tried.length ? ` Tried: ${tried.map((t) => `${t.address} (${t.error ?? 'no answer'})`).join('; ')}.` : '';
  return `${start}, or set DOCKER_HOST to where your engine listens. Berth connects as soon as it answers.${where}`;
}

function engineMessage(e: DockerodeError): string {
  const json = e.json;
  if (json && !Buffer.isBuffer(json) && typeof json === 'object' && typeof json.message === 'string') return json.message;
  if (Buffer.isBuffer(json)) {
    const text = json.toString('utf8').trim();
    try {
      const parsed = JSON.parse(text) as { message?: string };
      if (parsed.message) return parsed.message;
    } catch {
      if (text) return text;
    }
  }
  return e.message.replace(/^\(HTTP code \d+\) [^-]*- /, '').trim();
}

/**
 * dockerode puts the image name into the URL path as is: accept only what the engine itself would
 * (an id, a short id, or a valid reference), so a stray '?' or '/..' can never reach the socket.
 */
function checkImageRef(id: string): void {
  if (/^(sha256:)?[a-f0-9]{4,64}$/.test(id)) return;
  const r = parseNormalizedReference(id);
  if (!r.ok) throw new BerthError('INVALID_INPUT', `"${id}" is not an image id or reference: ${r.error.reason}`, r.error);
}

function realTags(tags: string[] | null | undefined): string[] {
  return (tags ?? []).filter((t) => t !== '<none>:<none>');
}

function asArray(v: string[] | string | null | undefined): string[] {
  if (!v) return [];
  return Array.isArray(v) ? v : [v];
}

function historyStep(h: HistoryEntry): ImageHistoryStep {
  const createdBy = h.CreatedBy ?? '';
  return {
    id: h.Id,
    created: h.Created,
    createdBy,
    size: h.Size,
    comment: h.Comment ?? '',
    tags: h.Tags ?? [],
    // The history API drops the config's empty_layer flag; metadata-only instructions never add a layer.
    emptyLayer: h.Size === 0 && METADATA_STEP.test(createdBy.replace(/^\/bin\/sh -c #\(nop\)\s*/, '')),
  };
}

const METADATA_STEP = /^(ENV|CMD|LABEL|EXPOSE|ENTRYPOINT|USER|VOLUME|STOPSIGNAL|HEALTHCHECK|SHELL|ONBUILD|ARG|MAINTAINER)\b/;

function imageLabel(id: string, info: ImageInspect): string {
  if (!/^(sha256:)?[a-f0-9]{12,64}$/.test(id)) return id;
  const tags = realTags(info.RepoTags);
  return tags.length === 1 ? tags[0] : info.Id.replace(/^sha256:/, '').slice(0, 12);
}

function joinNames(names: string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error) return reason;
  return new BerthError('CANCELLED', 'Cancelled');
}

/** Maps the engine's pull/push progress messages onto job items, one per layer. */
function layerProgress(ctx: JobContext): (m: JsonMessage) => void {
  const layers = new Map<string, ReturnType<JobContext['item']>>();
  const totals = new Map<string, number>();
  return (m) => {
    if (!m.id || !m.status || !/^[a-f0-9]{12,64}$/.test(m.id)) {
      if (m.status) ctx.message(m.id ? `${m.id}: ${m.status}` : m.status);
      return;
    }
    let item = layers.get(m.id);
    if (!item) {
      item = ctx.item(m.id, `Layer ${m.id}`);
      layers.set(m.id, item);
    }
    const status = m.status.toLowerCase();
    const total = m.progressDetail?.total;
    if (total) totals.set(m.id, total);
    if (m.progressDetail?.current !== undefined && /downloading|pushing/.test(status)) item.progress(m.progressDetail.current, total);
    if (/^(pull complete|pushed|already exists|layer already exists|download complete)$/.test(status)) {
      const t = totals.get(m.id) ?? 0;
      item.progress(t, t);
    }
    item.status(
      status.startsWith('already exists') || status.startsWith('layer already exists')
        ? 'exists'
        : status === 'pull complete' || status === 'pushed'
          ? 'done'
          : status.startsWith('downloading')
            ? 'downloading'
            : status.startsWith('extracting')
              ? 'extracting'
              : status.startsWith('pushing')
                ? 'uploading'
                : status.startsWith('waiting') || status.startsWith('pulling fs layer') || status.startsWith('preparing')
                  ? 'waiting'
                  : status,
    );
  };
}

/** When an endpoint the user named (DOCKER_HOST, a docker context) failed and a later one answered. */
export function fallbackWarning(failed: EngineEndpoint[], used: EngineCandidate, switchesBack = false): string | undefined {
  const named = failed.find(isNamed);
  if (!named) return undefined;
  const which = named.source === 'DOCKER_HOST' ? 'DOCKER_HOST' : `Docker context "${named.source.slice('context:'.length)}"`;
  return `${which} (${named.address}) did not answer${named.error ? ` — ${named.error}` : ''}. Berth is using ${used.address} (${used.source}) instead: images you change here are on that engine.${switchesBack ? ' Berth switches back as soon as it answers.' : ''}`;
}
