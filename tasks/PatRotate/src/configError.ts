// The error of a bad input: it names the input to fix, and is the whole line the user sees.

/** A bad input: `input` is the task input to fix. The message is the whole line the user sees. */
export class ConfigError extends Error {
  constructor(
    readonly input: string,
    message: string,
  ) {
    super(`Input '${input}': ${message}`);
    this.name = 'ConfigError';
  }
}
