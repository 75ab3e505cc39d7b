/**
 * Multi-select in a list the way file managers do it: click selects one, Ctrl/Cmd+click toggles,
 * Shift+click selects the range from the anchor. Pure, over the ids in their displayed order.
 */
export interface Selection {
  ids: ReadonlySet<string>;
  /** Where a Shift+click range starts. */
  anchor?: string;
}

export const emptySelection: Selection = { ids: new Set() };

export type SelectMode = 'single' | 'toggle' | 'range';

export function select(sel: Selection, order: readonly string[], id: string, mode: SelectMode): Selection {
  if (mode === 'toggle') {
    const ids = new Set(sel.ids);
    if (ids.has(id)) ids.delete(id);
    else ids.add(id);
    return { ids, anchor: id };
  }
  if (mode === 'range' && sel.anchor !== undefined) {
    const from = order.indexOf(sel.anchor);
    const to = order.indexOf(id);
    if (from >= 0 && to >= 0) {
      const [lo, hi] = from <= to ? [from, to] : [to, from];
      return { ids: new Set(order.slice(lo, hi + 1)), anchor: sel.anchor };
    }
  }
  return { ids: new Set([id]), anchor: id };
}

/** Keep only ids still listed (after a refresh or a filter change). */
export function retain(sel: Selection, order: readonly string[]): Selection {
  const present = new Set(order);
  const ids = new Set([...sel.ids].filter((id) => present.has(id)));
  if (ids.size === sel.ids.size) return sel;
  return { ids, anchor: sel.anchor !== undefined && present.has(sel.anchor) ? sel.anchor : undefined };
}

export function modeOf(e: { shiftKey: boolean; ctrlKey: boolean; metaKey: boolean }): SelectMode {
  if (e.shiftKey) return 'range';
  if (e.ctrlKey || e.metaKey) return 'toggle';
  return 'single';
}
