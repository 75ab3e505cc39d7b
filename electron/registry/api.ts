// PLACEHOLDER — the registry helper replaces this file (issue 3).
import type { BerthHandlers, MethodName } from '../../shared/api';
import { BerthError } from '../../shared/errors';
import type { Services } from '../app/backend';
type Names = Extract<MethodName, `registry.${string}`>;
const todo = async (): Promise<never> => { throw new BerthError('INTERNAL', 'not built yet'); };
export function registryHandlers(_s: Services): Pick<BerthHandlers, Names> {
  return { 'registry.status': todo, 'registry.start': todo, 'registry.stop': todo, 'registry.repositories': todo, 'registry.tags': todo, 'registry.manifest': todo, 'registry.config': todo, 'registry.deleteTag': todo, 'registry.deleteRepository': todo, 'registry.usage': todo, 'registry.gc': todo, 'registry.fsck': todo };
}
