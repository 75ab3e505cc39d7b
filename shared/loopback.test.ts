import { describe, expect, it } from 'vitest';
import { isLoopback } from './loopback';

describe('isLoopback', () => {
  it('knows this machine: localhost, all of 127.0.0.0/8 and ::1', () => {
    for (const h of ['127.0.0.1', '127.0.0.2', '127.255.255.254', 'localhost', '::1', '[::1]', ' 127.0.0.1 ']) expect(isLoopback(h), h).toBe(true);
  });
  it('and nothing else: other addresses, wildcards, names, malformed quads', () => {
    for (const h of ['0.0.0.0', '::', '192.168.1.4', '128.0.0.1', '127.0.0.256', '127.1', '127.0.0.1.example.com', 'example.com', '']) expect(isLoopback(h), h).toBe(false);
  });
});
