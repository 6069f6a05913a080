/** Slow and bloated answers for fault injection, generated as streams so they cost the emulator next to nothing. */
import type { ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';

const MIB = 1024 * 1024;
const MEMBER_INFLATED = 16 * MIB;
/**
 * One gzip member of 16 MiB of zeros (~70 KB). Gzip allows members back to back, so n of them inflate to n × 16 MiB.
 * Made once, when the emulator is loaded: made during a request it would stall every run sharing this process.
 */
const MEMBER = gzipSync(Buffer.alloc(MEMBER_INFLATED), { level: 1 });

function zeroMember(): Buffer {
  return MEMBER;
}

function writeAll(res: ServerResponse, chunks: () => Buffer | undefined): void {
  const pump = (): void => {
    for (let c = chunks(); c; c = chunks()) {
      if (res.destroyed) return;
      if (!res.write(c)) {
        res.once('drain', pump);
        return;
      }
    }
    res.end();
  };
  pump();
}

/** 200 with JSON headers, then one space every `everyMs` (valid JSON whitespace, never finished) until closed. */
export function drip(res: ServerResponse, everyMs: number): void {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  res.write(' ');
  const timer = setInterval(() => res.write(' '), everyMs);
  res.on('close', () => clearInterval(timer));
}

/**
 * 200 whose body is larger than any client should read: `gzip` sends a bomb of `bytes` inflated (default 2 GiB from
 * ~2 MB on the wire); otherwise `bytes` (default 64 MiB) of well-formed JSON.
 */
export function oversized(res: ServerResponse, gzip: boolean, bytes?: number): void {
  if (gzip) {
    let members = Math.ceil((bytes ?? 2048 * MIB) / MEMBER_INFLATED);
    res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Encoding': 'gzip' });
    writeAll(res, () => (members-- > 0 ? zeroMember() : undefined));
    return;
  }
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = Math.ceil((bytes ?? 64 * MIB) / chunk.length);
  const parts = [Buffer.from('{"patTokens":[],"continuationToken":"","padding":"')];
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8' });
  writeAll(res, () => parts.shift() ?? (left-- > 0 ? chunk : left === -1 ? Buffer.from('"}') : undefined));
}
