/**
 * Which process a pid is, beyond "some process has this pid": pids are reused (after a reboot, or after
 * a long uptime wraps pid_max), so a lock that names only a pid may point at an unrelated program. The
 * start time of a process and its program name tell one process from another that later got its pid.
 *
 * Linux: /proc/<pid>/stat (field 22, start time in clock ticks since boot; prefixed by the boot id so a
 * reboot never matches); other unixes (macOS): `ps -o lstart=,comm=` (start to the second, C locale);
 * Windows: the image name from `tasklist` (no start time without PowerShell, which is far too slow here).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface ProcessIdentity {
  /** When the process started, as an opaque token: equal tokens for one pid mean the same process. */
  started?: string;
  /** The program's short name: Linux comm (≤ 15 chars), the executable's file name elsewhere. */
  program?: string;
  /** Linux: the process has exited and waits to be reaped (a zombie): its pid still "exists". */
  exited?: boolean;
}

/** What this machine can tell about `pid`; {} when the process is gone or nothing can be read. */
export function processIdentity(pid: number, platform: NodeJS.Platform = process.platform): ProcessIdentity {
  if (!Number.isInteger(pid) || pid <= 0) return {};
  if (platform === 'linux') return fromProcStat(pid);
  if (platform === 'win32') return fromTasklist(pid);
  return fromPs(pid);
}

/** This process's identity, as processIdentity(process.pid) would read it from another process. */
export function ownIdentity(platform: NodeJS.Platform = process.platform): ProcessIdentity {
  // tasklist takes a good part of a second; our own image name is known without asking.
  if (platform === 'win32') return { program: basename(process.execPath) };
  return processIdentity(process.pid, platform);
}

let bootId: string | undefined;

function fromProcStat(pid: number): ProcessIdentity {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return {};
  }
  const parsed = parseProcStat(stat);
  if (!parsed) return {};
  bootId ??= readBootId();
  return { started: `${bootId}:${parsed.startTicks}`, program: parsed.comm, ...(/^[ZX]$/.test(parsed.state) ? { exited: true } : {}) };
}

function readBootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return 'boot';
  }
}

/**
 * `pid (comm) state ppid …`: comm may hold spaces and parentheses, so it runs to the last ')'. The
 * fields after it start at field 3 (state); the start time is field 22.
 */
export function parseProcStat(stat: string): { comm: string; state: string; startTicks: string } | undefined {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const fields = stat.slice(close + 2).trim().split(/\s+/);
  const startTicks = fields[22 - 3];
  if (!startTicks || !/^\d+$/.test(startTicks)) return undefined;
  return { comm: stat.slice(open + 1, close), state: fields[0], startTicks };
}

function fromPs(pid: number): ProcessIdentity {
  const r = spawnSync('ps', ['-o', 'lstart=,comm=', '-p', String(pid)], {
    encoding: 'utf8',
    env: { ...process.env, LC_ALL: 'C' },
    timeout: 5000,
  });
  if (r.status !== 0 || !r.stdout) return {};
  return parsePsLine(r.stdout);
}

/** `Fri Nov 27 17:16:39 2026 /Applications/Berth.app/Contents/MacOS/Berth`: lstart is 24 characters. */
export function parsePsLine(line: string): ProcessIdentity {
  const text = line.replace(/\n.*$/s, '');
  const started = text.slice(0, 24).trim();
  const command = text.slice(24).trim();
  if (!/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/.test(started)) return {};
  return { started: `ps:${started}`, ...(command ? { program: basename(command) } : {}) };
}

function fromTasklist(pid: number): ProcessIdentity {
  const r = spawnSync('tasklist', ['/FI', `PID eq ${pid}`, '/FO', 'CSV', '/NH'], { encoding: 'utf8', timeout: 5000, windowsHide: true });
  if (r.status !== 0 || !r.stdout) return {};
  // "Berth.exe","1234","Console","1","80,000 K" — or an INFO line when no such process exists.
  const m = /^"([^"]+)","(\d+)"/m.exec(r.stdout);
  return m && Number(m[2]) === pid ? { program: m[1] } : {};
}

const machineIds = new Map<NodeJS.Platform, string | undefined>();

/**
 * A stable id of this computer where its hostname is not stable: macOS changes os.hostname() with the
 * network it joins (and Windows with a rename), so a lock from this very machine would read as "another
 * machine, cannot tell" forever after a crash. Not on Linux: containers sharing a data directory often
 * share /etc/machine-id too, while their hostnames (and pid namespaces) differ.
 */
export function machineId(platform: NodeJS.Platform = process.platform): string | undefined {
  if (!machineIds.has(platform)) machineIds.set(platform, readMachineId(platform));
  return machineIds.get(platform);
}

function readMachineId(platform: NodeJS.Platform): string | undefined {
  if (platform === 'darwin') {
    const r = spawnSync('ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice'], { encoding: 'utf8', timeout: 5000 });
    return r.status === 0 ? parseIoregUuid(r.stdout) : undefined;
  }
  if (platform === 'win32') {
    const r = spawnSync('reg', ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid'], { encoding: 'utf8', timeout: 5000, windowsHide: true });
    return r.status === 0 ? parseMachineGuid(r.stdout) : undefined;
  }
  return undefined;
}

/** `"IOPlatformUUID" = "5E3B…"` in ioreg's output. */
export function parseIoregUuid(text: string): string | undefined {
  return /"IOPlatformUUID"\s*=\s*"([^"]+)"/.exec(text)?.[1];
}

/** `    MachineGuid    REG_SZ    0b0f…` in reg query's output. */
export function parseMachineGuid(text: string): string | undefined {
  return /MachineGuid\s+REG_SZ\s+(\S+)/.exec(text)?.[1];
}
