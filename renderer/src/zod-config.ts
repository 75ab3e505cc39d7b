// zod compiles validators with `new Function` unless told not to; the page's CSP forbids eval (and
// Chromium logs every refusal). The renderer only uses the contract's types and tag checks, so the
// interpreter is fast enough. Imported first by main.tsx, before any schema is built.
import { z } from 'zod';

z.config({ jitless: true });
