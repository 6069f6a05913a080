// Sending a create, and what to do when its answer is lost: a PAT made by a request nobody heard back from is
// never revoked on a guess (it may be another run's), only named.
import { AdoError } from '../ado/errors';
import type { NewPatToken, PatCreateRequest, PatToken } from '../ado/types';
import { errorMessage } from '../errorMessage';
import type { OpenCreate } from './ledger';
import type { Note, RunDeps } from './outcome';

/** Allowance for the service's clock against ours when matching a PAT to the request that made it. */
const CLOCK_SKEW_MS = 2 * 60_000;

/**
 * Creates a PAT. A create whose answer was lost may still have made a PAT whose value nobody will ever see. When no
 * new PAT of the name appeared since the request, nothing was made and the create is sent once more. When one did,
 * it is this run's orphan or another run's new PAT (which that run may have stored): it cannot be told which, so
 * nothing is revoked and the message names it.
 */
export async function createOnce(
  req: PatCreateRequest,
  deps: RunDeps,
  notes: Note[],
  ours: ReadonlySet<string>,
): Promise<{ created: NewPatToken; mayStillLand?: Date }> {
  const sentAt = deps.now();
  const leftover = `a PAT named '${req.displayName}' created at about ${sentAt.toISOString()} may be live and stored nowhere: check with operation list and revoke it`;
  // The create stays open in the ledger until it is known what it made, so a stop meanwhile looks for it too.
  const open = deps.ledger.createSent(req.displayName, sentAt);
  let lost: AdoError;
  try {
    return { created: await create(req, deps, open) };
  } catch (e) {
    if (!(e instanceof AdoError && e.lostResponse)) {
      deps.ledger.createAnswered(open);
      throw e;
    }
    lost = e;
  }
  notes.push({
    level: 'warning',
    text: `The answer to creating '${req.displayName}' was lost (${lost.message}); looking for a PAT it may have made.`,
  });
  let appeared: PatToken[];
  try {
    appeared = (await deps.pats.listAll('active')).filter(
      (p) =>
        p.displayName === req.displayName &&
        !deps.knownIds.has(p.authorizationId) &&
        !ours.has(p.authorizationId) &&
        p.validFrom.getTime() >= sentAt.getTime() - CLOCK_SKEW_MS,
    );
  } catch (err) {
    throw new Error(
      `Creating the new PAT got no answer (${lost.message}) and looking for what it made failed (${errorMessage(err)}): ${leftover}.`,
      { cause: err },
    );
  } finally {
    // A request that got no answer at all may still make its PAT: it stays open, so a stop later names it.
    if (!lost.unanswered) deps.ledger.createAnswered(open);
  }
  if (appeared.length > 0) {
    throw new Error(
      `Creating the new PAT got no answer (${lost.message}), and ${appeared.map((p) => p.authorizationId).join(', ')} named '${req.displayName}' appeared meanwhile: made by this request (its value was never received) or by another run, which may have stored it, so nothing was revoked. If no store holds it, revoke it (operation revoke with authorizationId); the old PAT is unchanged.`,
      { cause: lost },
    );
  }
  try {
    return {
      created: await create(req, deps, deps.ledger.createSent(req.displayName, deps.now())),
      mayStillLand: lost.unanswered ? sentAt : undefined,
    };
  } catch (err) {
    if (err instanceof AdoError && err.lostResponse)
      throw new Error(`Creating the new PAT got no answer twice (${err.message}): ${leftover}.`, { cause: err });
    throw err;
  }
}

/** Whether the PAT was listed before any change (ids compared without case). */
export function listedBefore(deps: RunDeps, id: string): boolean {
  const lower = id.toLowerCase();
  return [...deps.knownIds].some((k) => k.toLowerCase() === lower);
}

/** One create request, open in the ledger; closed here when its answer (masked at once) is in. */
async function create(req: PatCreateRequest, deps: RunDeps, open: OpenCreate): Promise<NewPatToken> {
  const created = await deps.pats.create(req);
  deps.ledger.createAnswered(open, created); // first: whatever happens next, a stop knows this PAT exists
  deps.setSecret(created.token);
  return created;
}
