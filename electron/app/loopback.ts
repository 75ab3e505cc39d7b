/** Host names and addresses that stay on this machine: `localhost`, 127.0.0.0/8 and ::1 (bracketed or not). */
import { isIP } from 'node:net';

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return isIP(h) === 4 && h.startsWith('127.');
}
