import { describe, expect, it } from 'vitest';
import { registrySnippets } from './snippets';

describe('registrySnippets', () => {
  it('uses the exact address and the chosen repository', () => {
    const s = registrySnippets('localhost:5123', 'team/api', 'v2');
    expect(s.map((x) => x.command)).toEqual([
      'docker login localhost:5123',
      'docker tag api:v2 localhost:5123/team/api:v2',
      'docker push localhost:5123/team/api:v2',
      'docker pull localhost:5123/team/api:v2',
      'skopeo copy --dest-tls-verify=false docker-daemon:api:v2 docker://localhost:5123/team/api:v2',
    ]);
  });
  it('uses a placeholder repository when none is chosen', () => {
    expect(registrySnippets('localhost:5000', undefined)[2].command).toBe('docker push localhost:5000/my-image:latest');
  });
});
