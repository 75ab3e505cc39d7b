/** Layers as a table: position, digest (with copy), media type, size. */
import { formatBytes, shortDigest } from '../../../shared/format';
import { Copyable } from './CopyButton';

export interface LayerRow {
  digest: string;
  mediaType: string;
  size: number;
}

const shortMediaType = (mediaType: string): string => mediaType.replace(/^application\/vnd\.(oci\.image|docker\.image)\./, '');

export function LayerTable({ layers, label }: { layers: LayerRow[]; label: string }) {
  return (
    <table className="grid" aria-label={label}>
      <tbody>
        {layers.map((l, i) => (
          <tr key={`${l.digest}-${i}`}>
            <td>{i + 1}</td>
            <td>
              <Copyable text={l.digest} shown={shortDigest(l.digest)} label={`Copy layer ${i + 1} digest`} />
            </td>
            <td className="muted small">{shortMediaType(l.mediaType)}</td>
            <td className="num">{formatBytes(l.size)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
