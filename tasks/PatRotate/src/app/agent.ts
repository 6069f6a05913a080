// The one seam to the agent, as an interface: the application takes an Agent and never imports task-lib. The real
// one is ../agent.ts (over azure-pipelines-task-lib); tests use an in-memory one (test/helpers/fakeAgent.ts).
import type { InputSource } from '../config';
import type { NetworkSettings } from '../net/network';

export type TaskResult = 'succeeded' | 'succeededWithIssues' | 'failed';

/** Why the run must stop early: a cancel (the agent's signal) or an error nothing else caught. */
export type StopReason = { signal: string } | { error: unknown };

/**
 * A service connection the task's inputs reference (azureSubscription): the agent hands the task its authorization
 * only then. `parameter` masks secret values as it reads them.
 */
export interface ServiceConnectionAuth {
  scheme: string;
  parameter(name: string): string | undefined;
  data(name: string): string | undefined;
}

export interface Agent extends InputSource {
  /** One line of the log as is: callers pass only inert text (see app/log.ts). */
  print(line: string): void;
  debug(text: string): void;
  /** An issue on the run summary. */
  warning(text: string): void;
  /** Masks the value in every later line of the log. */
  setSecret(value: string): void;
  setVariable(name: string, value: string, secret: boolean, isOutput: boolean): void;
  /** Publishes markdown on the run's summary page. */
  uploadSummary(markdown: string): void;
  /** Attaches a file the task wrote to the run (task.uploadfile): it is kept with the run's logs. */
  uploadFile(path: string): void;
  /** The task's result; the last call counts. */
  complete(result: TaskResult, message: string): void;
  /** The agent's proxy, certificate and timeout settings. */
  network(): NetworkSettings;
  /** The job's own access token (System.AccessToken), masked, for groupAuth: jobToken. */
  jobAccessToken(): string | undefined;
  /** The service connection `id` (an input of type connectedService), or undefined when the agent gave none. */
  serviceConnection(id: string): ServiceConnectionAuth | undefined;
  /** `handler` runs on a cancel and on an error nothing else caught. */
  onStop(handler: (reason: StopReason) => void): void;
  /** Ends the task process once everything printed has been written. */
  exit(code: number): void;
}
