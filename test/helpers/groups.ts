// Read → replace of one secret variable, as the store does (without its read-back): for client-level tests.
import type { VariableGroup, VariableGroupClient } from '../../tasks/PatRotate/src/ado/variableGroups';

export async function setSecret(
  groups: VariableGroupClient,
  group: VariableGroup,
  name: string,
  value: string,
  identity?: string,
): Promise<VariableGroup> {
  return groups.replace(await groups.read(group), { [name]: value }, identity);
}
