import { describe, expect, it } from 'vitest';
import { allowsPermission, isAllowedExternal, isAppUrl, secureWebPreferences, windowContentSecurityPolicy } from './security';

describe('window security rules', () => {
  const origin = { rendererDir: '/app/out/renderer' };

  it("trusts only the app's own files", () => {
    expect(isAppUrl('file:///app/out/renderer/index.html', origin)).toBe(true);
    expect(isAppUrl('file:///app/out/renderer/index.html#/registry', origin)).toBe(true);
    expect(isAppUrl('file:///app/out/rendererX/index.html', origin)).toBe(false);
    expect(isAppUrl('file:///app/out/renderer/../main/index.js', origin)).toBe(false);
    // loadFile leaves [ ] unescaped; pathToFileURL would escape them: both forms are the app's page.
    const odd = { rendererDir: '/opt/a[1]/out/renderer' };
    expect(isAppUrl('file:///opt/a[1]/out/renderer/index.html', odd)).toBe(true);
    expect(isAppUrl('file:///opt/a%5B1%5D/out/renderer/index.html', odd)).toBe(true);
    expect(isAppUrl('file:///opt/a[1]/out/rendererX/index.html', odd)).toBe(false);
    expect(isAppUrl('https://example.com/', origin)).toBe(false);
    expect(isAppUrl('not a url', origin)).toBe(false);
  });

  it('trusts the dev server only when one is configured', () => {
    const dev = { ...origin, devServerUrl: 'http://localhost:5173/' };
    expect(isAppUrl('http://localhost:5173/src/main.tsx', dev)).toBe(true);
    expect(isAppUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppUrl('http://localhost:5173/', origin)).toBe(false);
  });

  it('has a strict CSP in production and widens it only for the dev server', () => {
    const prod = windowContentSecurityPolicy();
    expect(prod).toContain("default-src 'self'");
    expect(prod).not.toContain('unsafe-eval');
    expect(prod).not.toMatch(/script-src[^;]*unsafe-inline/);
    const dev = windowContentSecurityPolicy('http://localhost:5173');
    expect(dev).toContain('ws://localhost:5173');
  });

  it('opens only allow-listed https documentation links externally', () => {
    expect(isAllowedExternal('https://docs.docker.com/engine/')).toBe(true);
    expect(isAllowedExternal('http://docs.docker.com/')).toBe(false);
    expect(isAllowedExternal('file:///etc/passwd')).toBe(false);
    expect(isAllowedExternal('https://docs.docker.com.evil.example/')).toBe(false);
  });

  it('gives windows an isolated, sandboxed renderer without Node', () => {
    expect(secureWebPreferences('/p.cjs')).toMatchObject({ preload: '/p.cjs', contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, webviewTag: false });
  });
});

describe('allowsPermission', () => {
  const origin = { rendererDir: '/app/out/renderer' };
  it('lets only the app page write to the clipboard, and refuses everything else', () => {
    expect(allowsPermission('clipboard-sanitized-write', 'file:///app/out/renderer/index.html', origin)).toBe(true);
    expect(allowsPermission('clipboard-sanitized-write', 'https://example.com/', origin)).toBe(false);
    expect(allowsPermission('clipboard-read', 'file:///app/out/renderer/index.html', origin)).toBe(false);
    expect(allowsPermission('media', 'file:///app/out/renderer/index.html', origin)).toBe(false);
  });
});
