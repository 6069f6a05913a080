// Draws the extension icon (images/icon.png, 128x128) and the task icon (tasks/PatRotate/icon.png, 32x32):
// a key inside a circular "rotate" arrow, Azure blue on transparent. Pure Node (node:zlib), deterministic output.
// Usage: node scripts/icons.js
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const ROOT = path.join(__dirname, '..');
const ARROW = [0x00, 0x78, 0xd4]; // Azure blue
const KEY = [0x00, 0x4e, 0x8c]; // darker blue

// ---- geometry, in unit coordinates (x right, y down, 0..1) -------------------------------------------------------
const C = 0.5;
const R_OUT = 0.445;
const R_IN = 0.36;
const R_MID = (R_OUT + R_IN) / 2;
// The arc runs counter-clockwise (screen) from GAP_END to GAP_START; the arrowhead sits at GAP_START.
const GAP_START = deg(25); // angle measured counter-clockwise from +x with y up
const GAP_END = deg(80);

function deg(d) {
  return (d * Math.PI) / 180;
}

function angleUp(x, y) {
  let a = Math.atan2(C - y, x - C);
  if (a < 0) a += 2 * Math.PI;
  return a;
}

function inArc(x, y) {
  const r = Math.hypot(x - C, y - C);
  if (r < R_IN || r > R_OUT) return false;
  const a = angleUp(x, y);
  return !(a > GAP_START && a < GAP_END);
}

// Arrowhead: a triangle whose base straddles the ring at GAP_START and whose tip points counter-clockwise along it.
const ARROW_TRI = (() => {
  const t = GAP_START;
  const radial = [Math.cos(t), -Math.sin(t)]; // screen coordinates
  const base = [C + R_MID * radial[0], C + R_MID * radial[1]];
  const half = 0.115;
  const len = 0.15;
  const p1 = [base[0] + radial[0] * half, base[1] + radial[1] * half];
  const p2 = [base[0] - radial[0] * half, base[1] - radial[1] * half];
  // the tip follows the ring a little so the arrow looks curved
  const tipAngle = t + len / R_MID;
  const tip = [C + R_MID * Math.cos(tipAngle), C - R_MID * Math.sin(tipAngle)];
  return [p1, p2, tip];
})();

function inTriangle(x, y, [a, b, c]) {
  const s = (p, q, r) => (p[0] - r[0]) * (q[1] - r[1]) - (q[0] - r[0]) * (p[1] - r[1]);
  const pt = [x, y];
  const d1 = s(pt, a, b);
  const d2 = s(pt, b, c);
  const d3 = s(pt, c, a);
  const neg = d1 < 0 || d2 < 0 || d3 < 0;
  const pos = d1 > 0 || d2 > 0 || d3 > 0;
  return !(neg && pos);
}

function inRect(x, y, x0, y0, x1, y1) {
  return x >= x0 && x <= x1 && y >= y0 && y <= y1;
}

function inKey(x, y) {
  // the key lies on a diagonal: rotate the point by +35deg around the centre into the key's own frame
  const a = deg(35);
  const dx = x - C;
  const dy = y - C;
  const kx = C + dx * Math.cos(a) - dy * Math.sin(a);
  const ky = C + dx * Math.sin(a) + dy * Math.cos(a);
  const head = Math.hypot(kx - 0.35, ky - 0.5);
  if (head <= 0.125 && head >= 0.052) return true;
  if (inRect(kx, ky, 0.46, 0.465, 0.72, 0.535)) return true; // shaft
  if (inRect(kx, ky, 0.6, 0.535, 0.645, 0.615)) return true; // tooth
  if (inRect(kx, ky, 0.675, 0.535, 0.72, 0.64)) return true; // tooth
  return false;
}

function shade(x, y) {
  if (inKey(x, y)) return KEY;
  if (inArc(x, y) || inTriangle(x, y, ARROW_TRI)) return ARROW;
  return null;
}

// ---- rasterise with 8x8 supersampling ------------------------------------------------------------------------------
function render(size) {
  const SS = 8;
  const rgba = Buffer.alloc(size * size * 4);
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let r = 0;
      let g = 0;
      let b = 0;
      let hits = 0;
      for (let sy = 0; sy < SS; sy++) {
        for (let sx = 0; sx < SS; sx++) {
          const c = shade((px + (sx + 0.5) / SS) / size, (py + (sy + 0.5) / SS) / size);
          if (!c) continue;
          r += c[0];
          g += c[1];
          b += c[2];
          hits++;
        }
      }
      const o = (py * size + px) * 4;
      if (hits) {
        rgba[o] = Math.round(r / hits);
        rgba[o + 1] = Math.round(g / hits);
        rgba[o + 2] = Math.round(b / hits);
        rgba[o + 3] = Math.round((255 * hits) / (SS * SS));
      }
    }
  }
  return rgba;
}

// ---- PNG encoding -------------------------------------------------------------------------------------------------
const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf) {
  let c = 0xffffffff;
  for (const byte of buf) c = CRC_TABLE[(c ^ byte) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

function png(size, rgba) {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  ihdr[10] = 0; // compression
  ihdr[11] = 0; // filter
  ihdr[12] = 0; // no interlace
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0; // filter: none
    rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

for (const [rel, size] of [
  ['images/icon.png', 128],
  ['tasks/PatRotate/icon.png', 32],
]) {
  const file = path.join(ROOT, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, png(size, render(size)));
  console.log(`${rel}: ${size}x${size}`);
}
