import assert from 'node:assert/strict';
import { AdoError } from '../../tasks/PatRotate/src/ado/errors';

/** Awaits a call that must fail with an AdoError, and returns that error. */
export async function rejection(p: Promise<unknown>): Promise<AdoError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AdoError, String(e));
    return e;
  }
  assert.fail('expected the call to fail');
}
