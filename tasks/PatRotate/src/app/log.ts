// The task's log over an Agent. Every line passes `inert` here, once: whatever part of it came from outside (a PAT
// name, a server message) stays text and can never become a logging command.
import { inert } from '../report/inert';
import type { Agent, TaskResult } from './agent';

/** Plain functions (no `this`), so a step can be handed on alone: `warn: log.warn`. */
export interface Log {
  info: (text: string) => void;
  debug: (text: string) => void;
  /** A warning shows on the run summary. */
  warn: (text: string) => void;
  /** Red in the log only: the failure itself reaches the run summary once, through the task result. */
  errorLine: (text: string) => void;
  section: (text: string) => void;
  group: (text: string) => void;
  endGroup: () => void;
  /** The task's result, with its one-line message. */
  complete: (result: TaskResult, message: string) => void;
}

export function logOf(agent: Agent): Log {
  return {
    info: (text) => agent.print(inert(text)),
    debug: (text) => agent.debug(inert(text)),
    warn: (text) => agent.warning(inert(text)),
    errorLine: (text) => agent.print(`##[error]${inert(text)}`),
    section: (text) => agent.print(`##[section]${inert(text)}`),
    group: (text) => agent.print(`##[group]${inert(text)}`),
    endGroup: () => agent.print('##[endgroup]'),
    complete: (result, message) => agent.complete(result, inert(message)),
  };
}
