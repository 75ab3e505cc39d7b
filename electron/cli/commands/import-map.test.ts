import { describe, expect, it } from 'vitest';
import { parseImageMap } from './import-map';

describe('berth import --map', () => {
  it('reads IMAGE=REPOSITORY[:TAG,…] with IMAGE a position, a name or a digest', () => {
    expect(parseImageMap('#1=team/web:1.0,latest')).toEqual({ image: 0, repository: 'team/web', tags: ['1.0', 'latest'] });
    expect(parseImageMap('redis:7=team/cache')).toEqual({ image: 'redis:7', repository: 'team/cache' });
    expect(parseImageMap('localhost:5000/a/b:1=c/d:2')).toEqual({ image: 'localhost:5000/a/b:1', repository: 'c/d', tags: ['2'] });
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseImageMap(`${digest}=x`)).toEqual({ image: digest, repository: 'x' });
  });

  it('says what it expects when the value is malformed', () => {
    expect(() => parseImageMap('team/web')).toThrow(/--map takes IMAGE=REPOSITORY/);
    expect(() => parseImageMap('#1=')).toThrow(/--map takes IMAGE=REPOSITORY/);
    expect(() => parseImageMap('=x')).toThrow(/--map takes IMAGE=REPOSITORY/);
    expect(() => parseImageMap('#0=x')).toThrow(/counts images from #1/);
  });
});
