// Where a new PAT value goes. Each Store writes one secret; `where` says it in words for logs and the summary.
import type { VariableGroup, VariableGroupClient } from '../ado/variableGroups';
import { batched } from './batched';

export interface Store {
  readonly where: string;
  put(variableName: string, value: string): Promise<void>;
}

/** Agent commands the pipeline-variable store needs (task-lib stays behind agent.ts). */
export interface VariableSink {
  setSecret(value: string): void;
  setVariable(name: string, value: string, secret: boolean, isOutput: boolean): void;
}

/** A secret job variable, plus a secret output variable of the same name for later jobs and stages. */
export class PipelineVariableStore implements Store {
  readonly where = 'pipeline variable';
  constructor(private readonly sink: VariableSink) {}

  put(variableName: string, value: string): Promise<void> {
    this.sink.setSecret(value);
    this.sink.setVariable(variableName, value, true, false);
    this.sink.setVariable(variableName, value, true, true);
    return Promise.resolve();
  }
}

/**
 * A secret variable in a variable group. The API has no partial update, so a write is GET → modify → PUT of the
 * whole group. Writes from this run never overlap (they would overwrite each other): those that arrive while one is
 * in flight are merged into the next single GET → PUT, which also keeps bulk rotations into one group fast.
 */
export class VariableGroupStore implements Store {
  readonly where: string;
  private readonly write: (entry: [string, string]) => Promise<unknown>;

  /** `identity` names who writes, for a permission error. */
  constructor(client: VariableGroupClient, group: VariableGroup, identity?: string) {
    this.where = `variable group '${group.name}' (id ${group.id})`;
    this.write = batched((entries) => client.setSecrets(group, Object.fromEntries(entries), identity));
  }

  async put(variableName: string, value: string): Promise<void> {
    await this.write([variableName, value]);
  }
}
