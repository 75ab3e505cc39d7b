/** Reading the detail of a CONFLICT error from the engine. */
import type { ContainerRef } from '../../../shared/api/engine';

/**
 * The containers named in a CONFLICT error's detail. The engine reports them as `{ containers: [...] }`
 * (or `usedBy`, or a bare list); each may be a ContainerRef or a name.
 */
export function containersFromDetail(detail: unknown): ContainerRef[] {
  const list = Array.isArray(detail)
    ? detail
    : detail && typeof detail === 'object'
      ? ((detail as Record<string, unknown>).containers ?? (detail as Record<string, unknown>).usedBy)
      : undefined;
  if (!Array.isArray(list)) return [];
  return list.flatMap((c): ContainerRef[] => {
    if (typeof c === 'string') return [{ id: c, name: c, state: '' }];
    if (c && typeof c === 'object') {
      const r = c as Partial<ContainerRef> & { names?: string[] };
      const name = r.name ?? r.names?.[0] ?? r.id ?? '';
      return [{ id: r.id ?? name, name: name.replace(/^\//, ''), state: r.state ?? '' }];
    }
    return [];
  });
}
