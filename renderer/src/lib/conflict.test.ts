import { describe, expect, it } from 'vitest';
import { containersFromDetail } from './conflict';

describe('containersFromDetail', () => {
  it('reads the containers a CONFLICT names, in the shapes the engine may send', () => {
    expect(containersFromDetail({ containers: [{ id: 'c1', name: '/web', state: 'running' }] })).toEqual([{ id: 'c1', name: 'web', state: 'running' }]);
    expect(containersFromDetail({ usedBy: ['db'] })).toEqual([{ id: 'db', name: 'db', state: '' }]);
    expect(containersFromDetail([{ id: 'c2', names: ['/api'] }])).toEqual([{ id: 'c2', name: 'api', state: '' }]);
  });
  it('returns nothing for a detail without containers', () => {
    expect(containersFromDetail(undefined)).toEqual([]);
    expect(containersFromDetail({ other: 1 })).toEqual([]);
  });
});
