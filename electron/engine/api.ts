// PLACEHOLDER — the engine helper replaces this file (issue 2).
import type { BerthHandlers } from '../../shared/api';
import { BerthError } from '../../shared/errors';
import type { Services } from '../app/backend';
type Names = 'engine.status' | 'images.list' | 'images.inspect' | 'images.tag' | 'images.remove' | 'images.prune';
const todo = async (): Promise<never> => { throw new BerthError('INTERNAL', 'not built yet'); };
export function engineHandlers(_s: Services): Pick<BerthHandlers, Names> {
  return { 'engine.status': todo, 'images.list': todo, 'images.inspect': todo, 'images.tag': todo, 'images.remove': todo, 'images.prune': todo };
}
