/**
 * Where is the Docker engine? The places a user's engine may listen, in the order the docker CLI and
 * the popular desktop engines would have us look: DOCKER_HOST, the current docker context, the system
 * socket, rootless Docker, Docker Desktop, Colima, Rancher Desktop, OrbStack, Podman, and the Windows named pipes.
 *
 * Pure: env, home directory, platform and file probes are parameters, so tests use temp directories and
 * fake environments; the service pings the candidates in order and keeps the first that answers.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { posix, win32 } from 'node:path';
import type { EngineEndpoint } from '../../shared/api/engine';

export interface EngineCandidate extends EngineEndpoint {
  /** tcp with TLS: the client certificate material (paths) and whether to verify the server. */
  tlsFiles?: { ca?: string; cert?: string; key?: string };
  tlsVerify?: boolean;
}

export interface FsProbe {
  exists(path: string): boolean;
  /** File contents, or undefined when missing or unreadable. */
  readFile(path: string): string | undefined;
  /** Directory entries (names), or [] when missing. */
  list(dir: string): string[];
  isDirectory(path: string): boolean;
}

export interface DiscoveryInput {
  env: Record<string, string | undefined>;
  home: string;
  platform: NodeJS.Platform;
  fs: FsProbe;
}

export const nodeFsProbe: FsProbe = {
  exists: (p) => existsSync(p),
  readFile: (p) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  },
  list: (d) => {
    try {
      return readdirSync(d);
    } catch {
      return [];
    }
  },
  isDirectory: (p) => {
    try {
      return statSync(p).isDirectory();
    } catch {
      return false;
    }
  },
};

export const WINDOWS_DOCKER_PIPE = '//./pipe/docker_engine';
export const WINDOWS_PODMAN_PIPE = '//./pipe/podman-machine-default';

/**
 * Turns a docker host string (DOCKER_HOST or a context's Endpoints.docker.Host) into a candidate.
 * Throws an Error with a readable message when the string is not an address docker would accept.
 */
export function parseDockerHost(value: string, source: string, env: DiscoveryInput['env'] = {}): EngineCandidate {
  const host = value.trim();
  if (host.startsWith('unix://')) {
    const path = host.slice('unix://'.length);
    if (!path) throw new Error(`${source}: unix:// needs a socket path, e.g. unix:///var/run/docker.sock`);
    return { kind: 'unix', address: path, source };
  }
  if (host.startsWith('npipe://')) {
    // npipe:////./pipe/docker_engine → //./pipe/docker_engine
    const pipe = host.slice('npipe://'.length).replace(/\\/g, '/') || WINDOWS_DOCKER_PIPE;
    return { kind: 'npipe', address: pipe, source };
  }
  const withScheme = host.includes('://') ? host : `tcp://${host}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new Error(`${source} "${value}" is not an address docker understands (unix://, tcp://host:port, ssh://user@host, npipe://)`);
  }
  if (url.protocol === 'ssh:') return { kind: 'ssh', address: url.href.replace(/\/$/, ''), source };
  if (!['tcp:', 'http:', 'https:'].includes(url.protocol) || !url.hostname) {
    throw new Error(`${source} "${value}" is not an address docker understands (unix://, tcp://host:port, ssh://user@host, npipe://)`);
  }
  const port = url.port || (url.protocol === 'https:' ? '2376' : '2375');
  const tls = url.protocol === 'https:' || (env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '') || port === '2376';
  return { kind: 'tcp', address: `tcp://${url.hostname}:${port}`, source, tls };
}

/** Every endpoint worth trying, most specific first, without duplicates. */
export function discoverEngines(input: DiscoveryInput): { candidates: EngineCandidate[]; problems: EngineEndpoint[] } {
  const { env, platform, fs } = input;
  const path = platform === 'win32' ? win32 : posix;
  const home = input.home;
  const candidates: EngineCandidate[] = [];
  /** Endpoints that could not even be tried (a malformed DOCKER_HOST, a context that does not exist). */
  const problems: EngineEndpoint[] = [];
  const add = (c: EngineCandidate) => {
    if (!candidates.some((o) => o.kind === c.kind && o.address === c.address)) candidates.push(c);
  };
  const addSocket = (address: string, source: string) => {
    if (fs.exists(address)) add({ kind: 'unix', address, source });
  };

  // 1. DOCKER_HOST: the user said where, so it comes first even when nothing answers there.
  if (env.DOCKER_HOST) {
    try {
      const c = parseDockerHost(env.DOCKER_HOST, 'DOCKER_HOST', env);
      if (c.kind === 'tcp' && c.tls) {
        const certs = env.DOCKER_CERT_PATH || path.join(home, '.docker');
        c.tlsFiles = tlsFilesIn(certs, path, fs);
        // As the docker CLI: any non-empty DOCKER_TLS_VERIFY means verify.
        c.tlsVerify = Boolean(env.DOCKER_TLS_VERIFY);
      }
      add(c);
    } catch (err) {
      problems.push({ kind: 'tcp', address: env.DOCKER_HOST, source: 'DOCKER_HOST', error: (err as Error).message });
    }
  }

  // 2. The docker context: DOCKER_CONTEXT, else currentContext in config.json. 'default' means the
  // built-in endpoint (DOCKER_HOST or the system socket), which the other steps cover.
  const configDir = env.DOCKER_CONFIG || path.join(home, '.docker');
  const contextName = env.DOCKER_CONTEXT || readCurrentContext(path.join(configDir, 'config.json'), fs);
  if (contextName && contextName !== 'default') {
    const id = createHash('sha256').update(contextName).digest('hex');
    const metaFile = path.join(configDir, 'contexts', 'meta', id, 'meta.json');
    const hostValue = readContextHost(metaFile, fs);
    const source = `context:${contextName}`;
    if (!hostValue) {
      problems.push({ kind: 'unix', address: metaFile, source, error: `Docker context "${contextName}" has no docker endpoint (${metaFile})` });
    } else {
      try {
        const c = parseDockerHost(hostValue.host, source, {});
        const tlsDir = path.join(configDir, 'contexts', 'tls', id, 'docker');
        if (c.kind === 'tcp' && fs.isDirectory(tlsDir)) {
          c.tls = true;
          c.tlsFiles = tlsFilesIn(tlsDir, path, fs);
          c.tlsVerify = !hostValue.skipTlsVerify;
        }
        add(c);
      } catch (err) {
        problems.push({ kind: 'tcp', address: hostValue.host, source, error: (err as Error).message });
      }
    }
  }

  if (platform === 'win32') {
    // Named pipes cannot be probed cheaply; the ping tells.
    add({ kind: 'npipe', address: WINDOWS_DOCKER_PIPE, source: 'docker-desktop' });
    add({ kind: 'npipe', address: WINDOWS_PODMAN_PIPE, source: 'podman' });
    return { candidates, problems };
  }

  // 3. The system socket (Linux dockerd; on macOS a link Docker Desktop makes when allowed).
  addSocket('/var/run/docker.sock', 'default');
  // Rootless Docker (dockerd-rootless-setuptool.sh): its setup tells the user to export DOCKER_HOST in a
  // shell profile, which an app started from the desktop never reads; the socket is in the runtime dir.
  if (platform === 'linux' && env.XDG_RUNTIME_DIR) addSocket(path.join(env.XDG_RUNTIME_DIR, 'docker.sock'), 'rootless-docker');
  // 4. Per-user engines.
  addSocket(path.join(home, '.docker', 'run', 'docker.sock'), 'docker-desktop');
  addSocket(path.join(home, '.docker', 'desktop', 'docker.sock'), 'docker-desktop');
  addSocket(path.join(home, '.colima', 'default', 'docker.sock'), 'colima');
  addSocket(path.join(home, '.colima', 'docker.sock'), 'colima');
  if (env.XDG_CONFIG_HOME) addSocket(path.join(env.XDG_CONFIG_HOME, 'colima', 'default', 'docker.sock'), 'colima');
  addSocket(path.join(home, '.rd', 'docker.sock'), 'rancher-desktop');
  addSocket(path.join(home, '.orbstack', 'run', 'docker.sock'), 'orbstack');
  // 5. Podman's Docker-compatible API.
  if (env.XDG_RUNTIME_DIR) addSocket(path.join(env.XDG_RUNTIME_DIR, 'podman', 'podman.sock'), 'podman');
  addSocket('/run/podman/podman.sock', 'podman');
  if (platform === 'darwin') {
    for (const sock of findPodmanMachineSockets(path.join(home, '.local', 'share', 'containers', 'podman', 'machine'), path, fs)) {
      add({ kind: 'unix', address: sock, source: 'podman-machine' });
    }
  }
  return { candidates, problems };
}

function readCurrentContext(configFile: string, fs: FsProbe): string | undefined {
  const text = fs.readFile(configFile);
  if (!text) return undefined;
  try {
    const config = JSON.parse(text) as { currentContext?: unknown };
    return typeof config.currentContext === 'string' && config.currentContext ? config.currentContext : undefined;
  } catch {
    return undefined; // A broken config.json must not stop discovery; docker itself would complain.
  }
}

function readContextHost(metaFile: string, fs: FsProbe): { host: string; skipTlsVerify: boolean } | undefined {
  const text = fs.readFile(metaFile);
  if (!text) return undefined;
  try {
    const meta = JSON.parse(text) as { Endpoints?: { docker?: { Host?: unknown; SkipTLSVerify?: unknown } } };
    const docker = meta.Endpoints?.docker;
    if (typeof docker?.Host !== 'string' || !docker.Host) return undefined;
    return { host: docker.Host, skipTlsVerify: docker.SkipTLSVerify === true };
  } catch {
    return undefined;
  }
}

function tlsFilesIn(dir: string, path: typeof posix, fs: FsProbe): EngineCandidate['tlsFiles'] {
  const file = (name: string) => {
    const p = path.join(dir, name);
    return fs.exists(p) ? p : undefined;
  };
  return { ca: file('ca.pem'), cert: file('cert.pem'), key: file('key.pem') };
}

/** podman machine on macOS: <machine dir>/<provider>/<name>/podman.sock (any depth up to 3), and *-api.sock. */
function findPodmanMachineSockets(root: string, path: typeof posix, fs: FsProbe, depth = 0): string[] {
  if (depth > 3 || !fs.isDirectory(root)) return [];
  const found: string[] = [];
  for (const name of fs.list(root).sort()) {
    const p = path.join(root, name);
    if (name === 'podman.sock' || name.endsWith('-api.sock')) found.push(p);
    else if (fs.isDirectory(p)) found.push(...findPodmanMachineSockets(p, path, fs, depth + 1));
  }
  return found;
}
