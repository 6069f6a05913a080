// Shared helpers for the emulator contract tests: spec loading, an HTTPS caller that trusts the emulator, shape checks.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import type { Emulator } from '../emulator';

/** Parsed JSON from specs or responses (tests index into it freely). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

/** The REST specs and httpExamples the tests read, copied into the repository (see test/fixtures/specs/PROVENANCE.md). */
export function specsDir(): string {
  // build/test/contract → repo root → test/fixtures/specs (the fixtures are read from the source tree, not copied to build/).
  return join(__dirname, '..', '..', '..', 'test', 'fixtures', 'specs');
}

/** Parses a spec JSON file (the copies keep their UTF-8 BOM). */
export function loadSpec(rel: string): Json {
  const file = join(specsDir(), rel);
  if (!existsSync(file))
    throw new Error(
      `${rel} is not in test/fixtures/specs: copy it byte-for-byte from the specs snapshot and list it in PROVENANCE.md`,
    );
  return JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
}

export interface CallResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Json;
}

export interface CallOptions {
  body?: unknown;
  headers?: Record<string, string>;
  bearer?: string;
  basicPat?: string;
  timeoutMs?: number;
}

/** One HTTPS request to the emulator, trusting its CA. Rejects on socket errors. */
export function call(em: Emulator, method: string, path: string, o: CallOptions = {}): Promise<CallResult> {
  const headers: Record<string, string> = { Accept: 'application/json', ...o.headers };
  if (o.bearer) headers.Authorization = `Bearer ${o.bearer}`;
  if (o.basicPat) headers.Authorization = `Basic ${Buffer.from(`:${o.basicPat}`).toString('base64')}`;
  const body = o.body === undefined ? undefined : typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
  if (body !== undefined) headers['Content-Type'] ??= 'application/json';
  return new Promise((resolve, reject) => {
    const req = request(
      `${em.url}${path}`,
      { method, headers, ca: em.caPem, agent: false, timeout: o.timeoutMs ?? 10_000 },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = text === '' ? undefined : JSON.parse(text);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** Every key of `expected` (recursively, objects only) is present in `actual`, in the same relative order. */
export function assertShape(actual: unknown, expected: unknown, path = '$', exact = false): void {
  if (expected === null || typeof expected !== 'object') return;
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`);
    if (expected.length > 0) for (const [i, a] of actual.entries()) assertShape(a, expected[0], `${path}[${i}]`, exact);
    return;
  }
  assert.ok(actual !== null && typeof actual === 'object' && !Array.isArray(actual), `${path}: expected an object`);
  const actualKeys = Object.keys(actual);
  const expectedKeys = Object.keys(expected);
  if (exact) assert.deepEqual(actualKeys, expectedKeys, `${path}: keys`);
  else {
    const present = actualKeys.filter((k) => expectedKeys.includes(k));
    assert.deepEqual(present, expectedKeys, `${path}: keys (subset, in order)`);
  }
  for (const k of expectedKeys) {
    const e = (expected as Record<string, unknown>)[k];
    const a = (actual as Record<string, unknown>)[k];
    if (e !== null && a !== null && k !== 'variables') assertShape(a, e, `${path}.${k}`, exact);
  }
}

export const DAY = 24 * 3600 * 1000;
export const DATE_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/;
