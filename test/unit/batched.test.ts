import assert from 'node:assert/strict';
import { batched } from '../../tasks/PatRotate/src/rotation/batched';

describe('batched', () => {
  it('merges calls of one tick, and calls made while a run is busy into the next run', async () => {
    const runs: number[][] = [];
    let release: (() => void) | undefined;
    const call = batched(async (items: number[]) => {
      runs.push(items);
      await new Promise<void>((r) => (release = r));
      return `run ${runs.length}`;
    });
    const first = call(1);
    const alsoFirst = call(0);
    await new Promise((r) => setImmediate(r));
    const second = call(2);
    const third = call(3);
    release!();
    assert.deepEqual(await Promise.all([first, alsoFirst]), ['run 1', 'run 1']);
    await new Promise((r) => setImmediate(r));
    release!();
    assert.deepEqual(await Promise.all([second, third]), ['run 2', 'run 2']);
    assert.deepEqual(runs, [[1, 0], [2, 3]]);
  });

  it('rejects every caller of a failed run, and recovers for the next', async () => {
    let fail = true;
    const call = batched(async (items: string[]) => {
      await Promise.resolve();
      if (fail) throw new Error(`no: ${items.join()}`);
      return items.length;
    });
    await assert.rejects(call('a'), /no: a/);
    fail = false;
    assert.equal(await call('b'), 1);
  });
});
