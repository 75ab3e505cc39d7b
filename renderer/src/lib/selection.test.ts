import { describe, expect, it } from 'vitest';
import { emptySelection, modeOf, retain, select } from './selection';

const order = ['a', 'b', 'c', 'd', 'e'];

describe('select', () => {
  it('selects one on a plain click and sets the anchor', () => {
    const s = select({ ids: new Set(['a', 'b']), anchor: 'a' }, order, 'c', 'single');
    expect([...s.ids]).toEqual(['c']);
    expect(s.anchor).toBe('c');
  });
  it('toggles with ctrl/cmd', () => {
    let s = select(emptySelection, order, 'b', 'single');
    s = select(s, order, 'd', 'toggle');
    expect([...s.ids].sort()).toEqual(['b', 'd']);
    s = select(s, order, 'b', 'toggle');
    expect([...s.ids]).toEqual(['d']);
  });
  it('selects a range from the anchor with shift, in either direction', () => {
    let s = select(emptySelection, order, 'd', 'single');
    s = select(s, order, 'b', 'range');
    expect([...s.ids]).toEqual(['b', 'c', 'd']);
    s = select(s, order, 'e', 'range');
    expect([...s.ids]).toEqual(['d', 'e']);
  });
  it('falls back to a single select when there is no anchor', () => {
    expect([...select(emptySelection, order, 'c', 'range').ids]).toEqual(['c']);
  });
});

describe('retain and modeOf', () => {
  it('drops ids that are no longer listed', () => {
    const s = retain({ ids: new Set(['a', 'x']), anchor: 'x' }, order);
    expect([...s.ids]).toEqual(['a']);
    expect(s.anchor).toBeUndefined();
    const same = { ids: new Set(['a']), anchor: 'a' };
    expect(retain(same, order)).toBe(same);
  });
  it('maps modifier keys to modes', () => {
    expect(modeOf({ shiftKey: true, ctrlKey: false, metaKey: false })).toBe('range');
    expect(modeOf({ shiftKey: false, ctrlKey: true, metaKey: false })).toBe('toggle');
    expect(modeOf({ shiftKey: false, ctrlKey: false, metaKey: true })).toBe('toggle');
    expect(modeOf({ shiftKey: false, ctrlKey: false, metaKey: false })).toBe('single');
  });
});
