import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { discoverEngines, nodeFsProbe, parseDockerHost, WINDOWS_DOCKER_PIPE, WINDOWS_PODMAN_PIPE } from './discovery';

let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), 'berth-discovery-'));
});
afterEach(() => rmSync(home, { recursive: true, force: true }));

/** Creates a file standing in for a socket (discovery only checks that the path exists). */
function touch(...parts: string[]): string {
  const p = join(home, ...parts);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, '');
  return p;
}

function writeContext(name: string, host: string, opts: { tls?: boolean; skipVerify?: boolean; configDir?: string } = {}) {
  const configDir = opts.configDir ?? join(home, '.docker');
  const id = createHash('sha256').update(name).digest('hex');
  mkdirSync(join(configDir, 'contexts', 'meta', id), { recursive: true });
  writeFileSync(
    join(configDir, 'contexts', 'meta', id, 'meta.json'),
    JSON.stringify({ Name: name, Metadata: {}, Endpoints: { docker: { Host: host, SkipTLSVerify: opts.skipVerify ?? false } } }),
  );
  if (opts.tls) {
    const dir = join(configDir, 'contexts', 'tls', id, 'docker');
    mkdirSync(dir, { recursive: true });
    for (const f of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(dir, f), 'x');
  }
}

const discover = (env: Record<string, string | undefined> = {}, platform: NodeJS.Platform = 'linux') =>
  discoverEngines({ env, home, platform, fs: nodeFsProbe });

/** The system socket exists on this test machine or not; tests look only at what they created. */
const own = (r: ReturnType<typeof discover>) => r.candidates.filter((c) => c.address !== '/var/run/docker.sock' && c.address !== '/run/podman/podman.sock');

describe('parseDockerHost', () => {
  it.each([
    ['unix:///var/run/docker.sock', { kind: 'unix', address: '/var/run/docker.sock' }],
    ['tcp://10.0.0.2:2375', { kind: 'tcp', address: 'tcp://10.0.0.2:2375', tls: false }],
    ['tcp://10.0.0.2:2376', { kind: 'tcp', address: 'tcp://10.0.0.2:2376', tls: true }],
    ['10.0.0.2:2375', { kind: 'tcp', address: 'tcp://10.0.0.2:2375', tls: false }],
    ['https://engine.example.com', { kind: 'tcp', address: 'tcp://engine.example.com:2376', tls: true }],
    ['npipe:////./pipe/docker_engine', { kind: 'npipe', address: '//./pipe/docker_engine' }],
    ['ssh://me@build-box', { kind: 'ssh', address: 'ssh://me@build-box' }],
  ])('%s', (value, expected) => {
    expect(parseDockerHost(value, 'DOCKER_HOST')).toMatchObject({ ...expected, source: 'DOCKER_HOST' });
  });
  it('turns TLS on with DOCKER_TLS_VERIFY', () => {
    expect(parseDockerHost('tcp://h:2375', 'DOCKER_HOST', { DOCKER_TLS_VERIFY: '1' }).tls).toBe(true);
  });
  it.each(['unix://', 'ftp://x', 'tcp://'])('refuses %s with a readable reason', (value) => {
    expect(() => parseDockerHost(value, 'DOCKER_HOST')).toThrow(/DOCKER_HOST/);
  });
});

describe('discoverEngines', () => {
  it('puts DOCKER_HOST first, before sockets that exist', () => {
    const desktop = touch('.docker', 'run', 'docker.sock');
    const r = discover({ DOCKER_HOST: 'unix:///tmp/elsewhere.sock' });
    expect(r.candidates[0]).toEqual({ kind: 'unix', address: '/tmp/elsewhere.sock', source: 'DOCKER_HOST' });
    expect(own(r).map((c) => c.address)).toEqual(['/tmp/elsewhere.sock', desktop]);
  });

  it('reads TLS material from DOCKER_CERT_PATH', () => {
    const ca = touch('certs', 'ca.pem');
    touch('certs', 'cert.pem');
    touch('certs', 'key.pem');
    const r = discover({ DOCKER_HOST: 'tcp://h:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dirname(ca) });
    expect(r.candidates[0]).toMatchObject({ kind: 'tcp', tls: true, tlsVerify: true, tlsFiles: { ca, cert: join(dirname(ca), 'cert.pem') } });
  });

  it('reports a malformed DOCKER_HOST as a problem and keeps looking', () => {
    const colima = touch('.colima', 'default', 'docker.sock');
    const r = discover({ DOCKER_HOST: 'bogus://x y' });
    expect(r.problems[0]).toMatchObject({ source: 'DOCKER_HOST', error: expect.stringMatching(/not an address docker understands/) });
    expect(own(r).map((c) => c.address)).toEqual([colima]);
  });

  it('follows currentContext in config.json to the context endpoint, with TLS files', () => {
    writeFileSync(join(touch('.docker', 'x'), '..', 'config.json'), JSON.stringify({ currentContext: 'remote' }));
    writeContext('remote', 'tcp://build.example.com:2376', { tls: true, skipVerify: true });
    const [first] = discover().candidates;
    expect(first).toMatchObject({ kind: 'tcp', address: 'tcp://build.example.com:2376', source: 'context:remote', tls: true, tlsVerify: false });
    expect(first.tlsFiles?.key).toMatch(/contexts\/tls\/[0-9a-f]{64}\/docker\/key\.pem$/);
  });

  it('prefers DOCKER_CONTEXT over config.json, and DOCKER_CONFIG over ~/.docker', () => {
    const configDir = join(home, 'cfg');
    mkdirSync(configDir, { recursive: true });
    writeFileSync(join(configDir, 'config.json'), JSON.stringify({ currentContext: 'colima' }));
    writeContext('colima', 'unix:///colima.sock', { configDir });
    writeContext('podman', 'unix:///podman.sock', { configDir });
    const r = discover({ DOCKER_CONFIG: configDir, DOCKER_CONTEXT: 'podman' });
    expect(r.candidates[0]).toEqual({ kind: 'unix', address: '/podman.sock', source: 'context:podman' });
    expect(r.candidates.some((c) => c.address === '/colima.sock')).toBe(false);
  });

  it("treats the 'default' context as no context, and reports a missing one", () => {
    expect(discover({ DOCKER_CONTEXT: 'default' }).problems).toEqual([]);
    const r = discover({ DOCKER_CONTEXT: 'gone' });
    expect(r.problems[0]).toMatchObject({ source: 'context:gone', error: expect.stringMatching(/no docker endpoint/) });
  });

  it('survives a broken config.json', () => {
    mkdirSync(join(home, '.docker'), { recursive: true });
    writeFileSync(join(home, '.docker', 'config.json'), '{not json');
    expect(discover().problems).toEqual([]);
  });

  it('finds the desktop engines in order and names them', () => {
    const paths = [
      touch('.docker', 'run', 'docker.sock'),
      touch('.docker', 'desktop', 'docker.sock'),
      touch('.colima', 'default', 'docker.sock'),
      touch('.colima', 'docker.sock'),
      touch('.rd', 'docker.sock'),
      touch('.orbstack', 'run', 'docker.sock'),
      touch('run', 'user', '1000', 'podman', 'podman.sock'),
    ];
    const r = own(discover({ XDG_RUNTIME_DIR: join(home, 'run', 'user', '1000') }));
    expect(r.map((c) => c.address)).toEqual(paths);
    expect(r.map((c) => c.source)).toEqual(['docker-desktop', 'docker-desktop', 'colima', 'colima', 'rancher-desktop', 'orbstack', 'podman']);
  });

  it('finds rootless Docker in the runtime directory on Linux, after the system socket', () => {
    const sock = touch('run', 'user', '1000', 'docker.sock');
    const r = discover({ XDG_RUNTIME_DIR: join(home, 'run', 'user', '1000') });
    expect(own(r)).toEqual([{ kind: 'unix', address: sock, source: 'rootless-docker' }]);
    const system = r.candidates.findIndex((c) => c.address === '/var/run/docker.sock');
    if (system >= 0) expect(system).toBeLessThan(r.candidates.findIndex((c) => c.address === sock));
  });

  it('skips sockets that do not exist and lists each address once', () => {
    const sock = touch('.rd', 'docker.sock');
    const r = own(discover({ DOCKER_HOST: `unix://${sock}` }));
    expect(r).toEqual([{ kind: 'unix', address: sock, source: 'DOCKER_HOST' }]);
  });

  it('finds podman machine sockets on macOS', () => {
    const sock = touch('.local', 'share', 'containers', 'podman', 'machine', 'qemu', 'podman.sock');
    const api = touch('.local', 'share', 'containers', 'podman', 'machine', 'applehv', 'podman-machine-default-api.sock');
    expect(own(discover({}, 'darwin')).map((c) => [c.address, c.source])).toEqual([
      [api, 'podman-machine'],
      [sock, 'podman-machine'],
    ]);
    expect(own(discover({}, 'linux'))).toEqual([]);
  });

  it('tries the named pipes on Windows', () => {
    const r = discover({}, 'win32');
    expect(r.candidates).toEqual([
      { kind: 'npipe', address: WINDOWS_DOCKER_PIPE, source: 'docker-desktop' },
      { kind: 'npipe', address: WINDOWS_PODMAN_PIPE, source: 'podman' },
    ]);
  });
});
