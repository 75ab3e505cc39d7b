/** The contract's jobs.* methods. */
import type { BerthHandlers } from '../../shared/api';
import type { Services } from '../app/backend';

type JobHandlers = Pick<BerthHandlers, 'jobs.list' | 'jobs.get' | 'jobs.cancel' | 'jobs.clear'>;

export function jobHandlers({ jobs }: Services): JobHandlers {
  return {
    'jobs.list': async () => jobs.list(),
    'jobs.get': async ({ id }) => jobs.get(id),
    'jobs.cancel': async ({ id }) => jobs.cancel(id),
    'jobs.clear': async () => ({ removed: jobs.clear() }),
  };
}
