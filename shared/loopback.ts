/**
 * Host names and addresses that stay on this machine: `localhost`, 127.0.0.0/8 and ::1 (bracketed or
 * not). Pure, so the backend (what to bind, whom to trust) and the UI (when to warn) agree.
 */
const ipv4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isLoopback(host: string): boolean {
  const h = host.trim().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1') return true;
  return ipv4.test(h) && h.startsWith('127.');
}
