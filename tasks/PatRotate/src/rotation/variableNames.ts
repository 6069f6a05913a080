// Where each new PAT of a plan goes: one variable name per PAT, from the variableName template, never one the agent
// keeps, an output of the task, a protected variable of the target, or another PAT's.
import { ConfigError } from '../config';
import { secretNameFor } from '../keyvault/names';
import { isOutputName, OUTPUT_CLASH, reservedVariableName, sameVariable } from '../variableNames';
import type { Action, PlanInput } from './actions';

/** Where each new PAT goes (a copy of each action, with its variable name). Every new value needs a place of its own. */
export function withVariableNames(input: PlanInput, planned: Action[]): Action[] {
  let actions = planned;
  const producing = actions.filter(
    (a): a is Extract<Action, { kind: 'create' | 'rotate' }> => a.kind === 'create' || a.kind === 'rotate',
  );
  const bulk = input.selector.kind === 'prefix' || input.selector.kind === 'all';
  if (input.target.kind === 'none') {
    if (bulk && producing.length > 0) {
      throw new ConfigError(
        'target',
        'several PATs may be rotated, and with target none their new values would be lost (the token output holds one PAT only): store them with target variable or variableGroup and {displayName} in variableName.',
      );
    }
    // The one new PAT goes to the secret output `token`, as soon as it is verified.
    return actions.map((a) => (a.kind === 'create' || a.kind === 'rotate' ? { ...a, variableName: 'token' } : a));
  }
  if (input.target.kind === 'serviceConnection') {
    if (bulk && producing.length > 0) {
      throw new ConfigError(
        'target',
        `a service connection holds one PAT, and this selection may rotate several into '${input.target.ref.connection}': select one PAT (an exact displayName or authorizationId).`,
      );
    }
    const connection = input.target.variableName;
    return actions.map((a) => (a.kind === 'create' || a.kind === 'rotate' ? { ...a, variableName: connection } : a));
  }
  const template = input.target.variableName;
  const vault = input.target.kind === 'keyVault';
  if (vault) {
    // A renewed PAT keeps its value, and its secret's expiry follows it: the secret is named as a rotation's would be.
    actions = actions.map((a) =>
      a.kind === 'renew' ? { ...a, variableName: secretNameFor(template, a.pat.displayName) } : a,
    );
  }
  const inputName = vault ? 'secretName' : 'variableName';
  if (bulk && !template.includes('{displayName}') && producing.length > 0) {
    throw new ConfigError(
      inputName,
      `several PATs may be rotated into one ${vault ? 'secret' : 'variable'}: put {displayName} in ${inputName} (e.g. "${vault ? 'PAT-' : 'PAT.'}{displayName}").`,
    );
  }
  const taken = new Map<string, string>();
  return actions.map((a) => {
    if (a.kind !== 'create' && a.kind !== 'rotate') return a;
    const name = a.kind === 'create' ? a.displayName : a.old.displayName;
    const variableName = vault
      ? secretNameFor(template, name)
      : template.replace(/\{displayName\}/g, name.replace(/[^A-Za-z0-9._-]/g, '_'));
    if (vault && variableName.length > 127)
      throw new ConfigError(
        'secretName',
        `PAT '${name}' would be stored as a secret name longer than Key Vault's 127 characters: shorten secretName or the PAT's name.`,
      );
    // Variable and secret names are case-insensitive, and sanitising can make two names one.
    const other = taken.get(variableName.toLowerCase());
    if (other !== undefined) {
      throw new ConfigError(
        inputName,
        `PATs '${other}' and '${name}' would both be stored as '${variableName}': rename one of the PATs, or narrow the selection.`,
      );
    }
    taken.set(variableName.toLowerCase(), name);
    const reserved = vault ? undefined : reservedVariableName(variableName);
    if (reserved) throw new ConfigError('variableName', `PAT '${name}' would be stored as ${reserved}`);
    if (input.target.kind === 'variable' && isOutputName(variableName))
      throw new ConfigError(
        'variableName',
        `PAT '${name}' would be stored as '${variableName}', which ${OUTPUT_CLASH}`,
      );
    const clash = input.protectedVariables?.find((p) => sameVariable(p.name, variableName));
    if (clash)
      throw new ConfigError(
        inputName,
        `PAT '${name}' would be stored as '${variableName}', ${clash.why}. Use another ${inputName}.`,
      );
    return { ...a, variableName };
  });
}
