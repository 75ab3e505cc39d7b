import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { machineId, ownIdentity, parseIoregUuid, parseMachineGuid, parseProcStat, parsePsLine, processIdentity } from './process-identity';

function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((resolve) => child.on('exit', () => resolve(child.pid!)));
}

describe('parseProcStat', () => {
  it('reads the start time (field 22) after a comm holding spaces and parentheses', () => {
    const rest = Array.from({ length: 50 }, (_, i) => String(i + 3)); // field n holds the number n
    rest[0] = 'S';
    expect(parseProcStat(`4242 (my (odd) prog) ${rest.join(' ')}\n`)).toEqual({ comm: 'my (odd) prog', state: 'S', startTicks: '22' });
  });
  it('refuses a record without the field', () => {
    expect(parseProcStat('1 (init) S 0 1')).toBeUndefined();
    expect(parseProcStat('garbage')).toBeUndefined();
  });
});

describe('parsePsLine', () => {
  it('splits the fixed-width lstart from the command', () => {
    expect(parsePsLine('Fri Nov  6 07:01:09 2026 /Applications/Berth.app/Contents/MacOS/Berth\n')).toEqual({
      started: 'ps:Fri Nov  6 07:01:09 2026',
      program: 'Berth',
    });
    expect(parsePsLine('')).toEqual({});
  });
});

describe.skipIf(process.platform !== 'linux')('processIdentity on Linux', () => {
  it('tells this process from its parent, stays the same for one process, and is empty for a dead pid', async () => {
    const me = processIdentity(process.pid);
    expect(me.started).toMatch(/^[0-9a-f-]+:\d+$/);
    expect(me.program).toBeTruthy();
    expect(processIdentity(process.pid)).toEqual(me);
    expect(ownIdentity()).toEqual(me);
    const parent = processIdentity(process.ppid);
    expect(parent.started).toBeDefined();
    expect(parent.started).not.toBe(me.started);
    expect(processIdentity(await deadPid())).toEqual({});
  });

  it('says a zombie (exited, not yet reaped) has exited', async () => {
    // The child exits at once, but its parent (a shell that sleeps) does not reap it for a while.
    const shell = spawn('sh', ['-c', 'sh -c "exit 0" & echo $!; exec sleep 5'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const pid = Number(await new Promise<string>((resolve) => shell.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
      const zombie = await (async () => {
        for (let i = 0; i < 50; i++) {
          const id = processIdentity(pid);
          if (id.exited) return id;
          await new Promise((r) => setTimeout(r, 20));
        }
        return processIdentity(pid);
      })();
      expect(zombie).toMatchObject({ exited: true, started: expect.any(String) });
      expect(processIdentity(process.pid).exited).toBeUndefined();
    } finally {
      shell.kill('SIGKILL');
    }
  });

  it('through ps (the macOS path) as well, where ps is installed', () => {
    const me = processIdentity(process.pid, 'darwin');
    expect(me.started).toMatch(/^ps:\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$/);
    expect(processIdentity(process.pid, 'darwin')).toEqual(me);
    expect(processIdentity(1, 'darwin').started).not.toBe(me.started);
  });
});

describe('machineId', () => {
  it('reads the platform UUID from ioreg and the MachineGuid from reg query', () => {
    const ioreg = '+-o J314sAP  <class IOPlatformExpertDevice>\n    "IOPlatformSerialNumber" = "C02X"\n    "IOPlatformUUID" = "5E3B1C2D-0000-4A6B-9C1D-22A0B1C2D3E4"\n';
    expect(parseIoregUuid(ioreg)).toBe('5E3B1C2D-0000-4A6B-9C1D-22A0B1C2D3E4');
    const reg = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    0b0f6d2e-1111-2222-3333-444455556666\r\n';
    expect(parseMachineGuid(reg)).toBe('0b0f6d2e-1111-2222-3333-444455556666');
    expect(parseIoregUuid('')).toBeUndefined();
  });
  it('is not used on Linux (containers share /etc/machine-id, not hostnames)', () => {
    expect(machineId('linux')).toBeUndefined();
  });
});
