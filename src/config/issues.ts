/** Problems found while loading a config file, each pointing at a line. */

export interface ConfigIssue {
  file: string;
  /** 1-based line; 0 when the issue concerns the whole file (for example its mode bits). */
  line: number;
  /** 1-based column, when known. */
  column?: number;
  message: string;
  severity: 'error' | 'warning';
}

/** Formats one issue as `file:line: message` (or `file: message` for whole-file issues). */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${issue.file}:${issue.line}` : issue.file;
  return `${where}: ${issue.message}`;
}

/** Like formatIssue, with warnings marked: `file:line: warning: message`. */
export function formatIssueWithSeverity(issue: ConfigIssue): string {
  return issue.severity === 'warning'
    ? formatIssue({ ...issue, message: `warning: ${issue.message}` })
    : formatIssue(issue);
}

/** Thrown when a config file has errors; carries every issue found, warnings included. */
export class ConfigError extends Error {
  readonly issues: ConfigIssue[];

  constructor(issues: ConfigIssue[]) {
    const errors = issues.filter((i) => i.severity === 'error');
    super(errors.map(formatIssue).join('\n'));
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Collects issues for one file while validation carries on, so all of them can be reported. */
export class IssueLog {
  readonly issues: ConfigIssue[] = [];

  constructor(readonly file: string) {}

  /** Records an error at a line. */
  error(line: number, message: string, column?: number): void {
    this.add('error', line, message, column);
  }

  /** Records a warning at a line. */
  warn(line: number, message: string, column?: number): void {
    this.add('warning', line, message, column);
  }

  /** How many errors (not warnings) were recorded so far. */
  errorCount(): number {
    return this.issues.filter((i) => i.severity === 'error').length;
  }

  /** The issues sorted by line, errors before warnings on the same line. */
  sorted(): ConfigIssue[] {
    return [...this.issues].sort((a, b) => a.line - b.line || rank(a) - rank(b));
  }

  private add(severity: ConfigIssue['severity'], line: number, message: string, column?: number): void {
    const issue: ConfigIssue = { file: this.file, line, message, severity };
    if (column !== undefined) issue.column = column;
    this.issues.push(issue);
  }
}

function rank(issue: ConfigIssue): number {
  return issue.severity === 'error' ? 0 : 1;
}
