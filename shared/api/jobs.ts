/** Jobs: every long piece of work, for the Transfers view. */
import { z } from 'zod';
import { method } from '../contract';
import type { JobSnapshot } from '../jobs';

export const jobMethods = {
  'jobs.list': method(z.object({}).strict()).returns<JobSnapshot[]>(),
  'jobs.get': method(z.object({ id: z.string().min(1) }).strict()).returns<JobSnapshot>(),
  'jobs.cancel': method(z.object({ id: z.string().min(1) }).strict()).returns<JobSnapshot>(),
  /** Forget finished jobs. */
  'jobs.clear': method(z.object({}).strict()).returns<{ removed: number }>(),
};
