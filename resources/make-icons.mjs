#!/usr/bin/env node
// Draws Berth's icon offline (no image tools needed) and writes every format the packagers want:
//   icon.png (512×512, Linux and the window icon), icon.ico (Windows: PNG-compressed 256/48/32/16 entries),
//   icon.icns (macOS: PNG-compressed ic07/ic08/ic09 = 128/256/512).
// The picture: a rounded deep-blue tile with three stacked containers (a berth holding images).
// Run: node resources/make-icons.mjs
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const here = new URL('.', import.meta.url);

function crc32(buf) {
  let c;
  const table = crc32.table ??= Array.from({ length: 256 }, (_, n) => {
    c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  let crc = 0xffffffff;
  for (const b of buf) crc = table[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Inside a rounded rectangle (coordinates in 0..1). */
function inRoundRect(x, y, x0, y0, x1, y1, r) {
  if (x < x0 || x > x1 || y < y0 || y > y1) return false;
  const cx = Math.min(Math.max(x, x0 + r), x1 - r);
  const cy = Math.min(Math.max(y, y0 + r), y1 - r);
  return (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
}

/** Colour of one point of the picture, or null for transparent. */
function paint(x, y) {
  if (!inRoundRect(x, y, 0.04, 0.04, 0.96, 0.96, 0.2)) return null;
  // three containers, stacked and offset like a pile on a quay
  const boxes = [
    { x0: 0.2, y0: 0.56, x1: 0.8, y1: 0.74, c: [0xf5, 0xa6, 0x23] },
    { x0: 0.26, y0: 0.39, x1: 0.74, y1: 0.55, c: [0x2e, 0xc4, 0xb6] },
    { x0: 0.32, y0: 0.22, x1: 0.68, y1: 0.38, c: [0xe7, 0x4c, 0x6f] },
  ];
  for (const b of boxes) {
    if (inRoundRect(x, y, b.x0, b.y0, b.x1, b.y1, 0.02)) {
      // vertical ribs of a container
      const rib = Math.floor(((x - b.x0) / (b.x1 - b.x0)) * 9) % 2 === 1 && y > b.y0 + 0.025 && y < b.y1 - 0.025;
      return rib ? b.c.map((v) => Math.round(v * 0.82)) : b.c;
    }
  }
  // the quay
  if (y > 0.77 && y < 0.81 && x > 0.12 && x < 0.88) return [0xe8, 0xee, 0xf6];
  // background: deep blue, lighter at the top
  const t = y;
  return [Math.round(0x1f + (0x12 - 0x1f) * t), Math.round(0x4e + (0x2a - 0x4e) * t), Math.round(0x9a + (0x5c - 0x9a) * t)];
}

function render(size) {
  const ss = 4; // 4×4 supersampling for smooth edges
  const out = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < ss; sy++) {
        for (let sx = 0; sx < ss; sx++) {
          const c = paint((px + (sx + 0.5) / ss) / size, (py + (sy + 0.5) / ss) / size);
          if (!c) continue;
          r += c[0]; g += c[1]; b += c[2]; a++;
        }
      }
      const i = (py * size + px) * 4;
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
        out[i + 3] = Math.round((a / (ss * ss)) * 255);
      }
    }
  }
  return png(size, out);
}

function ico(images) {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(images.length, 4);
  let offset = 6 + 16 * images.length;
  const entries = images.map(({ size, data }) => {
    const e = Buffer.alloc(16);
    e[0] = size >= 256 ? 0 : size; // 0 means 256
    e[1] = size >= 256 ? 0 : size;
    e.writeUInt16LE(1, 4); // planes
    e.writeUInt16LE(32, 6); // bits per pixel
    e.writeUInt32LE(data.length, 8);
    e.writeUInt32LE(offset, 12);
    offset += data.length;
    return e;
  });
  return Buffer.concat([header, ...entries, ...images.map((i) => i.data)]);
}

function icns(images) {
  const parts = images.map(({ type, data }) => {
    const h = Buffer.alloc(8);
    h.write(type, 0, 'ascii');
    h.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([h, data]);
  });
  const h = Buffer.alloc(8);
  h.write('icns', 0, 'ascii');
  h.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([h, ...parts]);
}

const sizes = Object.fromEntries([16, 32, 48, 128, 256, 512].map((s) => [s, render(s)]));
writeFileSync(new URL('icon.png', here), sizes[512]);
writeFileSync(new URL('icon.ico', here), ico([256, 48, 32, 16].map((size) => ({ size, data: sizes[size] }))));
writeFileSync(new URL('icon.icns', here), icns([{ type: 'ic07', data: sizes[128] }, { type: 'ic08', data: sizes[256] }, { type: 'ic09', data: sizes[512] }]));
console.log('wrote resources/icon.png, icon.ico, icon.icns');
