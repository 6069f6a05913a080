// What the plan decides: one Action per selected PAT (or per PAT to create), from the listed PATs and the inputs.
import type { PatToken } from '../ado/types';
import type { Config, RetireMode } from '../config';

export type PatStatus = 'active' | 'expired';
export interface ListedPat extends PatToken {
  status: PatStatus;
}

export type Action =
  | { kind: 'create'; displayName: string; scope: string; allOrgs: boolean; validTo: Date; variableName?: string }
  | {
      kind: 'rotate';
      old: ListedPat;
      scope: string;
      allOrgs: boolean;
      validTo: Date;
      variableName?: string;
      retire: RetireMode;
    }
  /** `variableName`: the Key Vault secret holding this PAT, whose expiry follows the renewal (target keyVault). */
  | { kind: 'renew'; pat: ListedPat; validTo: Date; variableName?: string }
  | { kind: 'revoke'; pat: ListedPat }
  | { kind: 'list'; pat: ListedPat }
  | { kind: 'skip'; pat: ListedPat; reason: string; supersededBy?: string };

export interface Plan {
  actions: Action[];
  /** Expiry warnings for selected PATs this run does not refresh, and global-PAT retirement warnings. */
  warnings: string[];
}

export type PlanInput = Pick<
  Config,
  | 'operation'
  | 'selector'
  | 'scopes'
  | 'validityDays'
  | 'allOrgs'
  | 'rotateWithinDays'
  | 'warnWithinDays'
  | 'createIfMissing'
  | 'retireOld'
  | 'target'
> & {
  /** Variables of the target no PAT may be stored as (the refresh token's, plain ones), each with the reason. */
  protectedVariables?: readonly { name: string; why: string }[];
};
