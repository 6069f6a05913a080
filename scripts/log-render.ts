// How `npm run demo` and `npm run local` show a task run: the way the pipeline UI does. ##vso commands are consumed
// (setvariable, setsecret, …), warnings and errors are marked, debug lines are hidden unless asked for, and every
// registered secret is masked. Colour only on a terminal, and never with NO_COLOR set.
import { parseCommands, type TaskRun } from '../test/helpers/runTask';

export interface Palette {
  bold: (s: string) => string;
  dim: (s: string) => string;
  yellow: (s: string) => string;
  red: (s: string) => string;
  green: (s: string) => string;
  cyan: (s: string) => string;
}

/** Colours for a stream: ANSI codes only when it is a TTY and NO_COLOR is unset (https://no-color.org). */
export function palette(stream: { isTTY?: boolean } = process.stdout): Palette {
  const on = stream.isTTY === true && !process.env.NO_COLOR;
  const paint =
    (code: string) =>
    (s: string): string =>
      on ? `\x1b[${code}m${s}\x1b[0m` : s;
  return {
    bold: paint('1'),
    dim: paint('2'),
    yellow: paint('33'),
    red: paint('31'),
    green: paint('32'),
    cyan: paint('36'),
  };
}

/** Visible width of a string that may hold ANSI colour codes. */
export function visibleWidth(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[\d+m/g, '').length;
}

/** Masks secrets as the agent does: every registered value becomes ***, longest first. */
export class Masker {
  private readonly secrets = new Set<string>();

  add(secret: string | undefined): void {
    if (secret) this.secrets.add(secret);
  }

  mask(s: string): string {
    return [...this.secrets]
      .sort((a, b) => b.length - a.length)
      .reduce((acc, secret) => acc.split(secret).join('***'), s);
  }
}

export interface RenderOptions {
  masker: Masker;
  colours: Palette;
  /** Show task.debug lines as ##[debug] (the pipeline's System.Debug). */
  verbose?: boolean;
}

/**
 * One stdout line of the task as the log shows it, or undefined when the agent consumes it. Registers the secrets
 * the line announces (setsecret, secret setvariable) before masking, as the agent does.
 */
export function renderLine(raw: string, o: RenderOptions): string | undefined {
  const { masker, colours: c } = o;
  if (raw === '') return undefined;
  const [cmd] = raw.startsWith('##vso[') ? parseCommands(raw) : [];
  if (!cmd) {
    if (raw.startsWith('##[section]')) return c.cyan(masker.mask(raw));
    if (raw.startsWith('##[group]') || raw.startsWith('##[endgroup]')) return c.dim(masker.mask(raw));
    return masker.mask(raw);
  }
  switch (cmd.name) {
    case 'task.setsecret':
      masker.add(cmd.message);
      return undefined;
    case 'task.setvariable':
      if (cmd.props.issecret === 'true') masker.add(cmd.message);
      return undefined;
    case 'task.issue':
    case 'task.logissue':
      return cmd.props.type === 'error'
        ? c.red(`##[error]${masker.mask(cmd.message)}`)
        : c.yellow(`##[warning]${masker.mask(cmd.message)}`);
    case 'task.complete':
      if (cmd.props.result === 'Failed') return c.red(`##[error]${masker.mask(cmd.message)}`);
      if (cmd.props.result === 'SucceededWithIssues') return c.yellow(`##[warning]${masker.mask(cmd.message)}`);
      return undefined;
    case 'task.uploadsummary':
      return c.dim("(job summary published on the run's Extensions tab)");
    case 'task.debug':
      return o.verbose ? c.dim(`##[debug]${masker.mask(cmd.message)}`) : undefined;
    default: // consumed by the agent, not shown
      return undefined;
  }
}

/** A finished run's log (stdout, then stderr in red), with every secret the run registered masked everywhere. */
export function renderLog(run: TaskRun, o: { colours: Palette; verbose?: boolean; secrets?: string[] }): string[] {
  const masker = new Masker();
  for (const s of [...run.secrets, ...(o.secrets ?? [])]) masker.add(s);
  for (const v of run.variables.values()) if (v.secret) masker.add(v.value);
  const lines: string[] = [];
  for (const raw of run.stdout.split(/\r?\n/)) {
    const line = renderLine(raw, { masker, colours: o.colours, verbose: o.verbose });
    if (line !== undefined) lines.push(line);
  }
  for (const raw of run.stderr.split(/\r?\n/)) if (raw.trim()) lines.push(o.colours.red(masker.mask(raw)));
  return lines;
}

/** Rows as aligned columns (ANSI-aware), two-space indent. */
export function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => visibleWidth(r[i]))));
  return rows.map((r) =>
    `  ${r.map((cell, i) => cell + ' '.repeat(widths[i] - visibleWidth(cell))).join('  ')}`.trimEnd(),
  );
}
