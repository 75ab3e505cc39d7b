/**
 * What `berth import` and `berth export` share: run one archive job through the instance that holds the
 * data directory (or this process, holding the lock), draw its progress, cancel it on Ctrl-C.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { BerthApi } from '../../../shared/api';
import type { JobSnapshot } from '../../../shared/jobs';
import { defaultDataDir } from '../../app/data-dir';
import type { CliIO } from '../command';
import { withInstance } from '../instance';
import { jobProgress } from '../progress';

/** The exit code for a finished job: 0 done; 1 failed or cancelled, with the reason on stderr. */
export function jobExitCode(io: CliIO, command: string, job: JobSnapshot): number {
  if (job.state === 'done') return 0;
  if (job.state === 'cancelled') io.err(`berth ${command}: cancelled; nothing was left behind.`);
  else io.err(`berth ${command}: ${job.error?.message ?? job.state}`);
  return 1;
}

export async function runArchiveJob(
  io: CliIO,
  opts: { data?: string; mode: string },
  start: (api: BerthApi) => Promise<JobSnapshot | undefined>,
): Promise<JobSnapshot | undefined> {
  const dataDir = resolve(opts.data ?? defaultDataDir());
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  return withInstance(
    dataDir,
    async (api, waitForJob) => {
      const job = await start(api);
      if (!job) return undefined;
      // First Ctrl-C cancels the job (which cleans up after itself); the process exits when it has.
      const onSignal = () => {
        io.err('Cancelling…');
        void api['jobs.cancel']({ id: job.id }).catch(() => {});
      };
      process.on('SIGINT', onSignal);
      try {
        return await waitForJob(job.id, jobProgress({ tty: io.tty }));
      } finally {
        process.off('SIGINT', onSignal);
      }
    },
    {
      mode: opts.mode,
      log: io.err,
      onRoute: (route) => {
        if (route.kind === 'remote') io.err(`Handing the work to ${route.holder.mode ?? 'the running Berth'} (pid ${route.holder.pid}).`);
      },
    },
  );
}
