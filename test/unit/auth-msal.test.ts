import assert from 'node:assert/strict';
import { ServerError } from '@azure/msal-node';
import { authorityFor } from '../../tasks/PatRotate/src/auth/msalApp';
import { retryAfterMs, throttleDelay } from '../../tasks/PatRotate/src/auth/signIn';
import { readRefreshToken } from '../../tasks/PatRotate/src/auth/tokenCache';

describe('auth/msalApp: authority and knownAuthorities', () => {
  it('public cloud: no knownAuthorities (MSAL has its metadata)', () => {
    assert.deepEqual(authorityFor('https://login.microsoftonline.com', 'organizations'), {
      authority: 'https://login.microsoftonline.com/organizations',
      knownAuthorities: [],
    });
    assert.deepEqual(authorityFor('https://login.microsoftonline.us/', 'tid').knownAuthorities, []);
  });
  it('other hosts: host:port, or host for 443', () => {
    assert.deepEqual(authorityFor('https://127.0.0.1:4433', 'tid'), {
      authority: 'https://127.0.0.1:4433/tid',
      knownAuthorities: ['127.0.0.1:4433'],
    });
    assert.deepEqual(authorityFor('https://login.example.com:443/', 'tid').knownAuthorities, ['login.example.com']);
    assert.deepEqual(authorityFor('https://login.microsoftonline.com:8443', 'tid').knownAuthorities, [
      'login.microsoftonline.com:8443',
    ]);
  });
});

describe('auth/tokenCache: rotated refresh token', () => {
  const entry = (home: string, secret: string) => ({
    home_account_id: home,
    environment: 'e',
    credential_type: 'RefreshToken',
    client_id: 'c',
    secret,
  });
  it('picks the entry of the account', () => {
    const cache = JSON.stringify({ RefreshToken: { a: entry('u1.t', 'rt-1'), b: entry('u2.t', 'rt-2') } });
    assert.equal(readRefreshToken(cache, 'u2.t'), 'rt-2');
    assert.equal(readRefreshToken(cache, 'nobody'), undefined);
    assert.equal(readRefreshToken(cache), undefined);
  });
  it('falls back to the only entry', () => {
    assert.equal(readRefreshToken(JSON.stringify({ RefreshToken: { a: entry('oid', 'rt-1') } }), 'oid.tid'), 'rt-1');
  });
  it('none, empty or broken cache', () => {
    assert.equal(readRefreshToken(JSON.stringify({ Account: {}, RefreshToken: {} }), 'x'), undefined);
    assert.equal(readRefreshToken('{}'), undefined);
    assert.equal(readRefreshToken('not json'), undefined);
  });
});

describe('auth/signIn: throttling retry decision', () => {
  const at = (status: number, retryAfter?: string) => ({ method: 'POST' as const, url: 'u', status, retryAfter });
  it('retries a ServerError after 429 or 503, honouring Retry-After', () => {
    const e = new ServerError('temporarily_unavailable', 'c', 'x');
    assert.equal(throttleDelay(e, at(429, '2')), 2000);
    assert.equal(throttleDelay(e, at(503)), 5000);
    assert.equal(throttleDelay(e, at(400)), undefined);
    assert.equal(throttleDelay(e, undefined), undefined);
    assert.equal(throttleDelay(new Error('x'), at(429)), undefined);
  });
  it('bounds Retry-After and reads HTTP dates', () => {
    assert.equal(retryAfterMs(undefined), 5000);
    assert.equal(retryAfterMs('3600'), 60_000);
    assert.equal(retryAfterMs('soon'), 5000);
    assert.equal(retryAfterMs(new Date(10_000).toUTCString(), 0), 10_000);
  });
});
