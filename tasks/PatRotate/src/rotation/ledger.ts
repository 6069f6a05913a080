// What this run has changed so far, kept as it happens, so a cancel (SIGINT/SIGTERM from the agent) or a crash can
// undo what is safe to undo and name the rest. A new PAT is safe to revoke until a store write of it has begun: after
// that the store may hold it.
import type { PatStatusFilter, PatToken } from '../ado/types';
import { errorMessage } from '../errorMessage';

type NewPatState = 'created' | 'storing' | 'stored' | 'revoked';

interface NewPat {
  id: string;
  name: string;
  state: NewPatState;
}

/** A create request without an answer yet: if the run stops now, the PAT it may have made has to be found. */
export interface OpenCreate {
  name: string;
  sentAt: Date;
}

/** Thrown at the next step once the run is stopping: no new change may begin. */
export class RunStopping extends Error {
  override readonly name = 'RunStopping';
  constructor() {
    super('The run is stopping (cancelled, or an unexpected error): no further change was made.');
  }
}

export interface StopApi {
  listAll(filter: PatStatusFilter): Promise<PatToken[]>;
  revoke(authorizationId: string): Promise<void>;
}

export class Ledger {
  private readonly pats = new Map<string, NewPat>();
  private readonly creates = new Set<OpenCreate>();
  private stopping = false;
  /** Old PATs whose retirement has begun: named if the run stops before it is confirmed. */
  private readonly retiring = new Set<string>();

  /** `say` prints a line at once (the log may be all that is left of a run that is killed). */
  constructor(private readonly say: (text: string) => void = () => undefined) {}

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Call right before a change begins: throws RunStopping once the run is stopping. */
  check(): void {
    if (this.stopping) throw new RunStopping();
  }

  createSent(name: string, sentAt: Date): OpenCreate {
    this.check();
    const c = { name, sentAt };
    this.creates.add(c);
    return c;
  }

  createAnswered(c: OpenCreate, pat?: { authorizationId: string; displayName: string }): void {
    this.creates.delete(c);
    if (!pat || this.pats.has(pat.authorizationId)) return;
    this.pats.set(pat.authorizationId, { id: pat.authorizationId, name: pat.displayName, state: 'created' });
    this.say(`New PAT ${pat.authorizationId} created for '${pat.displayName}' (not stored yet).`);
  }

  /** Marks the start of store writes (checked and marked in one step, so a stop cannot slip between). */
  storing(ids: readonly string[]): void {
    this.check();
    ids.forEach((id) => this.mark(id, 'storing'));
  }

  stored(id: string): void {
    this.mark(id, 'stored');
  }

  /** The store is known not to hold it (the write did not land): safe to revoke again. */
  notStored(id: string): void {
    this.mark(id, 'created');
  }

  revoked(id: string): void {
    this.mark(id, 'revoked');
  }

  retiringOld(id: string): void {
    this.check();
    this.retiring.add(id);
  }

  retiredOld(id: string): void {
    this.retiring.delete(id);
  }

  private mark(id: string, state: NewPatState): void {
    const p = this.pats.get(id);
    if (p) p.state = state;
  }

  /**
   * Stops the run: no new change begins, every new PAT that no store write has touched is revoked (one a create in
   * flight may have made is looked for and named, not revoked: it may be another run's), within `deadlineMs`. Returns lines that say what was undone and
   * what is left live. Safe to call once; later calls return the first call's promise.
   */
  stop(api: StopApi | undefined, deadlineMs: number, knownIds: ReadonlySet<string>): Promise<string[]> {
    this.stopPromise ??= this.undo(api, deadlineMs, knownIds);
    return this.stopPromise;
  }

  private stopPromise?: Promise<string[]>;

  private async undo(api: StopApi | undefined, deadlineMs: number, listed: ReadonlySet<string>): Promise<string[]> {
    this.stopping = true;
    const known = new Set([...listed].map((id) => id.toLowerCase()));
    const knownIds = { has: (id: string) => known.has(id.toLowerCase()) };
    const lines: string[] = [];
    /** PATs a create still waiting for its answer may have made: this run's orphans, or another run's new PATs. */
    const appeared: PatToken[] = [];
    const work = (async () => {
      if (!api) return; // stopped before the PAT API was in reach: nothing was created
      const openCreates = [...this.creates];
      if (openCreates.length > 0) {
        const earliest = Math.min(...openCreates.map((c) => c.sentAt.getTime())) - 2 * 60_000;
        const names = new Set(openCreates.map((c) => c.name));
        appeared.push(
          ...(await api.listAll('active')).filter(
            (p) =>
              names.has(p.displayName) &&
              !knownIds.has(p.authorizationId) &&
              !this.pats.has(p.authorizationId) &&
              p.validFrom.getTime() >= earliest,
          ),
        );
      }
      // Never a PAT listed before the run: an answer that named one must not make the undo retire the working PAT.
      await Promise.all(
        [...this.pats.values()]
          .filter((p) => p.state === 'created' && !knownIds.has(p.id))
          .map(async (p) => {
            try {
              await api.revoke(p.id);
              p.state = 'revoked';
              lines.push(`Rolled back: revoked the new PAT ${p.id} ('${p.name}'), which was not stored yet.`);
            } catch (e) {
              lines.push(
                `Revoking the new PAT ${p.id} ('${p.name}') failed (${errorMessage(e)}): it is live and stored nowhere: revoke it by hand.`,
              );
            }
          }),
      );
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      work.then(
        () => false,
        (e: unknown) => {
          lines.push(`Looking for what to undo failed: ${errorMessage(e)}`);
          return false;
        },
      ),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs))),
    ]);
    clearTimeout(timer);
    if (timedOut) lines.push(`Undoing did not finish within ${Math.round(deadlineMs / 1000)} s.`);
    for (const p of appeared) {
      lines.push(
        `Left live: ${p.authorizationId} ('${p.displayName}') appeared while this run's create had no answer: it is this run's (stored nowhere) or another run's, so it was not revoked: if no store holds it, revoke it.`,
      );
    }
    for (const p of this.pats.values()) {
      if (p.state === 'created' && !knownIds.has(p.id))
        lines.push(`Left live: the new PAT ${p.id} ('${p.name}') is stored nowhere: revoke it by hand.`);
      if (p.state === 'storing')
        lines.push(
          `Left live: the new PAT ${p.id} ('${p.name}') was being stored when the run stopped, so the store may hold it or the old PAT: keep the one its consumers work with and revoke the other.`,
        );
    }
    for (const c of this.creates) {
      if (timedOut || !appeared.some((p) => p.displayName === c.name)) {
        lines.push(
          `A PAT named '${c.name}' requested at ${c.sentAt.toISOString()} may still be created (its answer never came): check with operation list.`,
        );
      }
    }
    for (const id of this.retiring)
      lines.push(`The old PAT ${id} was being retired when the run stopped: check whether it is still live.`);
    return lines;
  }
}
