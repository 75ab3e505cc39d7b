/** The hidden file input behind "Import archive…" and "Add files…": picked files go to the import sheet. */
import type { RefObject } from 'react';
import { useUi } from '../store/ui';

export const archiveAccept = '.tar,.tar.gz,.tgz,.oci,application/x-tar,application/gzip';

export function ArchiveInput({ inputRef, label }: { inputRef: RefObject<HTMLInputElement | null>; label: string }) {
  const openImport = useUi((s) => s.openImport);
  return (
    <input
      ref={inputRef}
      type="file"
      multiple
      accept={archiveAccept}
      hidden
      aria-label={label}
      onChange={(e) => {
        if (e.target.files?.length) openImport([...e.target.files]);
        e.target.value = '';
      }}
    />
  );
}
