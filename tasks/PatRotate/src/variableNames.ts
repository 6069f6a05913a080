// Rules for the names of the variables PatRotate writes: valid characters, names the agent keeps for itself, the
// task's own outputs. Pipeline variable names are case-insensitive.
import { ConfigError } from './configError';

const VARIABLE_NAME = /^[A-Za-z0-9._{}-]+$/;

export function checkVariableName(input: string, name: string): void {
  if (!VARIABLE_NAME.test(name)) {
    throw new ConfigError(
      input,
      `'${name}' is not a valid variable name: use letters, digits, '.', '_' and '-' (and {displayName}).`,
    );
  }
  const reserved = reservedVariableName(name);
  if (reserved) throw new ConfigError(input, reserved);
}

/** Prefixes (and names) the agent keeps for itself: a task may not set them, or setting them would change the job. */
const RESERVED = /^(system|agent|build|release|pipeline|task|endpoint|secret)\.|^path$/i;

/** Why `name` may not be used for a variable, or undefined when it may. */
export function reservedVariableName(name: string): string | undefined {
  if (!RESERVED.test(name)) return undefined;
  return `'${name}' is a name the agent reserves (System.*, Agent.*, Build.*, Release.*, Pipeline.*, Task.*, Endpoint.*, Secret.*, PATH): choose another name, e.g. 'PAT.${name.replace(/^[^.]*\./, '')}'.`;
}

/** The task's own output variables: a PAT stored as a pipeline variable (also an output) of one of these names would clash. */
const OUTPUT_NAMES = ['token', 'authorizationId', 'validTo', 'action', 'count', 'refreshToken'];
export const OUTPUT_CLASH = `is the name of one of the task's own output variables (${OUTPUT_NAMES.join(', ')}): choose another variableName.`;

export function isOutputName(name: string): boolean {
  return OUTPUT_NAMES.some((o) => sameVariable(o, name));
}

/** Pipeline variable names are case-insensitive. */
export function sameVariable(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
