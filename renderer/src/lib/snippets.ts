/**
 * Copy-paste commands for the embedded registry, with its exact address and a chosen repository.
 */
export interface Snippet {
  label: string;
  command: string;
}

export function registrySnippets(address: string, repository: string | undefined, tag = 'latest'): Snippet[] {
  const repo = repository && repository.length > 0 ? repository : 'my-image';
  const ref = `${address}/${repo}:${tag}`;
  const local = `${repo.split('/').pop() ?? repo}:${tag}`;
  return [
    { label: 'Log in', command: `docker login ${address}` },
    { label: 'Tag a local image', command: `docker tag ${local} ${ref}` },
    { label: 'Push', command: `docker push ${ref}` },
    { label: 'Pull', command: `docker pull ${ref}` },
    { label: 'Copy with skopeo', command: `skopeo copy --dest-tls-verify=false docker-daemon:${local} docker://${ref}` },
  ];
}
