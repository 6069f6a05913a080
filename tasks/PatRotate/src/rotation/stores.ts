// Where a new PAT value goes. Each Store writes one secret; `where` says it in words for logs and the summary.
import type { VariableGroup, VariableGroupClient } from '../ado/variableGroups';

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
 * A secret variable in a variable group. The API has no partial update, so every write is GET → modify → PUT of the
 * whole group; writes from this run are queued one at a time so bulk rotations into one group never lose each
 * other's updates.
 */
export class VariableGroupStore implements Store {
  readonly where: string;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly client: VariableGroupClient,
    private readonly group: VariableGroup,
  ) {
    this.where = `variable group '${group.name}' (id ${group.id})`;
  }

  put(variableName: string, value: string): Promise<void> {
    const write = this.queue.then(() => this.client.setSecret(this.group, variableName, value));
    this.queue = write.catch(() => undefined);
    return write.then(() => undefined);
  }
}
