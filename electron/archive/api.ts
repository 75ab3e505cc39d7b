/** The archive area of the contract: preview, import (registry or engine), export (to a path, or prepared in the cache). */
import type { BerthHandlers, MethodName } from '../../shared/api';
import type { Services } from '../app/backend';

type Names = Extract<MethodName, `archive.${string}`>;

export function archiveHandlers(s: Services): Pick<BerthHandlers, Names> {
  return {
    'archive.preview': async ({ source }) => s.archive.preview(source),
    'archive.import': async (input) => s.archive.import(input),
    'archive.export': async (input) => s.archive.export(input),
    'archive.prepareExport': async (input) => s.exports.prepare(input),
  };
}
