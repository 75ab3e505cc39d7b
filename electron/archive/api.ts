// PLACEHOLDER — the archive helper replaces this file (issue 4).
import type { BerthHandlers, MethodName } from '../../shared/api';
import { BerthError } from '../../shared/errors';
import type { Services } from '../app/backend';
type Names = Extract<MethodName, `archive.${string}`>;
const todo = async (): Promise<never> => { throw new BerthError('INTERNAL', 'not built yet'); };
export function archiveHandlers(_s: Services): Pick<BerthHandlers, Names> {
  return { 'archive.preview': todo, 'archive.import': todo, 'archive.export': todo };
}
