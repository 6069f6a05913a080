// What every step of a run shares: the agent, its log, and the parsed inputs.
import type { Config } from '../config';
import type { Agent } from './agent';
import type { Log } from './log';

export interface RunContext {
  agent: Agent;
  log: Log;
  cfg: Config;
}
