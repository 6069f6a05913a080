/** Fault injection rules: matched by method + path (without query), evaluated after latency and before the handler. */

export type FaultAction =
  | { kind: 'status'; status: number; retryAfterSeconds?: number; body?: unknown }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'delay'; ms: number }
  | { kind: 'html' }
  | { kind: 'malformedJson' }
  | { kind: 'afterApply'; then: 'reset' | { status: number; retryAfterSeconds?: number } }
  /**
   * Holds the request until `until` settles (or the emulator closes): before handling it, or with `answerOnly` after
   * handling it (applied, answer not sent yet). `onHeld` fires when the hold begins, `onApplied` right after the
   * request changed the state. With these a test orders two runs' requests exactly (e.g. a PUT that lands between
   * another run's GET and PUT) or cancels a run at a chosen step.
   */
  | { kind: 'hold'; until?: Promise<unknown>; answerOnly?: boolean; onHeld?: () => void; onApplied?: () => void }
  /** A lying server: the request is handled for real, and its JSON answer is rewritten by `change` before it is sent. */
  | { kind: 'tamper'; change: (body: unknown) => unknown }
  /** Another writer replaces the variable group right after this PUT, from a read made before it: what it added is gone. */
  | { kind: 'lostUpdate' }
  /** 200 and JSON headers, then one space every `everyMs`, never finishing (an idle timeout never trips). */
  | { kind: 'drip'; everyMs: number }
  /** The PAT list answered with an empty page and a fresh continuation token, every time. */
  | { kind: 'endlessPages' }
  /** A 200 body too large to read: a gzip bomb (2 GiB inflated by default) or `bytes` (64 MiB) of JSON. */
  | { kind: 'oversized'; gzip?: boolean; bytes?: number }
  /** A redirect (307 by default) to `location`. */
  | { kind: 'redirect'; location: string; status?: number };

export interface FaultRule {
  method?: string;
  /** String: exact (case-insensitive) or prefix ending with '*'. RegExp: tested against the path. */
  path: string | RegExp;
  /** 1-based: fire only on the nth matching call. */
  nth?: number;
  /** How many times to fire (default: unlimited without `nth`, once with it). */
  times?: number;
  action: FaultAction;
  /** Runs when the rule fires, before its action (e.g. another writer acting at exactly this moment). */
  onHit?: () => void;
}

interface LiveRule extends FaultRule {
  id: number;
  seen: number;
  fired: number;
}

export class Faults {
  private rules: LiveRule[] = [];
  private nextId = 1;

  /** Adds a rule; returns its id (for `remove`). */
  add(rule: FaultRule): number {
    const id = this.nextId++;
    this.rules.push({ ...rule, id, seen: 0, fired: 0 });
    return id;
  }

  remove(id: number): void {
    this.rules = this.rules.filter((r) => r.id !== id);
  }

  clear(): void {
    this.rules = [];
  }

  /** How often rule `id` has fired. */
  firedCount(id: number): number {
    return this.rules.find((r) => r.id === id)?.fired ?? 0;
  }

  /** Counts the call against every matching rule and returns the first action that fires. */
  take(method: string, path: string): FaultAction | undefined {
    let chosen: FaultAction | undefined;
    for (const r of this.rules) {
      if (!matches(r, method, path)) continue;
      r.seen++;
      if (chosen) continue;
      const limit = r.times ?? (r.nth !== undefined ? 1 : Infinity);
      if (r.fired >= limit) continue;
      if (r.nth !== undefined && r.seen < r.nth) continue;
      r.fired++;
      r.onHit?.();
      chosen = r.action;
    }
    return chosen;
  }
}

function matches(r: FaultRule, method: string, path: string): boolean {
  if (r.method && r.method.toUpperCase() !== method.toUpperCase()) return false;
  if (r.path instanceof RegExp) return r.path.test(path);
  const want = r.path.toLowerCase();
  const got = path.toLowerCase();
  return want.endsWith('*') ? got.startsWith(want.slice(0, -1)) : got === want;
}
