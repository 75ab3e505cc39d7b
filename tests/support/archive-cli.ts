/** What the archive suites share: skopeo as JSON, and `berth …` against a running instance's data directory. */
import { run } from './registry-images';
import { runBerthAsync, type RegistryTarget } from './registry-target';

export const skopeo = (...args: string[]) => run('skopeo', args).stdout;

/** `skopeo inspect` (plain HTTP allowed) as parsed JSON; `--raw` among the flags gives the manifest itself. */
export const inspect = (ref: string, ...flags: string[]) => JSON.parse(skopeo('inspect', '--tls-verify=false', ...flags, ref));

/** Runs `berth ARGS… --data <the target's data dir>`; throws with its output unless it exits 0. */
export function berthCliOn(target: () => RegistryTarget) {
  return async (...args: string[]) => {
    const r = await runBerthAsync([...args, '--data', target().dataDir!]);
    if (r.status !== 0) throw new Error(`berth ${args.join(' ')} exited ${r.status}:\n${r.stderr}\n${r.stdout}`);
    return r;
  };
}
