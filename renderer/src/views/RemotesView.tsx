/** Remote registries are not part of this version; the view says so rather than showing anything made up. */
import { Empty } from '../components/Bits';

export function RemotesView() {
  return (
    <section className="view" aria-label="Remotes">
      <div className="view-head">
        <h1>Remotes</h1>
      </div>
      <Empty title="Remote registries arrive in a later version">
        <p>Browsing, pulling from and pushing to other registries (Docker Hub, GHCR, your company&apos;s registry) is not built yet. The local engine and the embedded registry are ready.</p>
      </Empty>
    </section>
  );
}
