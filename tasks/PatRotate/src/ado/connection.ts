// Proves a freshly created PAT works before anything depends on it. A new credential can take a few seconds to
// reach every Azure DevOps front end, so a 401 right after creation is retried for a while.
import { AdoError } from './errors';
import type { AdoHttp } from './http';

export interface VerifyPatOptions {
  /** Give up after this long (default 30 s). */
  maxWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

interface ConnectionData {
  authenticatedUser?: { id?: string; descriptor?: string; providerDisplayName?: string };
}

const MAX_STEP_MS = 8_000;

export async function verifyPat(
  http: AdoHttp,
  collectionUrl: string,
  pat: string,
  options: VerifyPatOptions = {},
): Promise<{ userId: string }> {
  const maxWaitMs = options.maxWaitMs ?? 30_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const url = `${collectionUrl.replace(/\/+$/, '')}/_apis/connectionData`;
  let waited = 0;
  for (let step = 1_000; ; step = Math.min(step * 2, MAX_STEP_MS)) {
    try {
      const data = await http.send<ConnectionData>('GET', url, { credential: { kind: 'basic', token: pat } });
      const user = data?.authenticatedUser;
      // An unauthenticated call may be answered as the anonymous/public identity instead of 401.
      if (user?.id && !/PublicAccess|Anonymous/i.test(`${user.descriptor ?? ''} ${user.providerDisplayName ?? ''}`)) {
        return { userId: user.id };
      }
      throw new AdoError('auth', `GET ${url} did not identify a user for the new PAT`, { status: 200 });
    } catch (e) {
      if (!(e instanceof AdoError) || e.kind !== 'auth') throw e;
      const delay = Math.min(step, maxWaitMs - waited);
      if (delay <= 0) {
        throw new AdoError(
          'auth',
          `The new PAT was not accepted by ${collectionUrl} within ${Math.round(maxWaitMs / 1000)} s ` +
            `(last answer: ${e.message})`,
          { status: e.status },
        );
      }
      await sleep(delay);
      waited += delay;
    }
  }
}
