/**
 * Merges calls into runs of `work`: calls made in the same tick share one run, and calls that arrive while a run is
 * busy share the next. Every caller gets the result of a run that began after its call, so the result is as fresh as
 * its own call would have been — at a fraction of the requests when many workers ask at once.
 */
export function batched<T, R>(work: (items: T[]) => Promise<R>): (item: T) => Promise<R> {
  let waiting: { item: T; resolve: (r: R) => void; reject: (e: Error) => void }[] = [];
  let running = false;
  const pump = async (): Promise<void> => {
    while (waiting.length > 0) {
      const batch = waiting;
      waiting = [];
      try {
        const result = await work(batch.map((w) => w.item));
        batch.forEach((w) => w.resolve(result));
      } catch (e) {
        const error = e instanceof Error ? e : new Error('batched call failed', { cause: e });
        batch.forEach((w) => w.reject(error));
      }
    }
    running = false;
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!running) {
        running = true;
        queueMicrotask(() => void pump()); // let the rest of this tick's callers join the first run
      }
    });
}
