/** The contract's engine.* and images.* methods: thin calls into EngineService. */
import type { BerthHandlers } from '../../shared/api';
import type { Services } from '../app/backend';

type Names = 'engine.status' | 'images.list' | 'images.inspect' | 'images.tag' | 'images.remove' | 'images.prune';

export function engineHandlers(s: Services): Pick<BerthHandlers, Names> {
  const engine = s.engine;
  return {
    'engine.status': ({ refresh }) => engine.getStatus(refresh ?? false),
    'images.list': () => engine.listImages(),
    'images.inspect': ({ id }) => engine.inspectImage(id),
    'images.tag': ({ id, target }) => engine.tagImage(id, target),
    'images.remove': ({ id, force }) => engine.removeImage(id, force ?? false),
    'images.prune': () => engine.pruneImages(),
  };
}
