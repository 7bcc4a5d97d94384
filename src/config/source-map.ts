/**
 * One line-number space over several files (the main config, included files, host-list files).
 * Validation code reports issues by line only; giving each file its own range of "virtual" lines
 * lets that code stay unchanged while every issue still ends up at the right file:line.
 */
import { dirname, resolve } from 'node:path';
import type { ConfigIssue } from './issues.js';

/** A place in a file: what provenance and messages show as `file:line`. */
export interface SourcePlace {
  file: string;
  line: number;
}

interface Range {
  file: string;
  /** Absolute path, where relative paths written in the file resolve from. */
  absolute?: string;
  offset: number;
  lines: number;
}

export class SourceMap {
  private readonly ranges: Range[] = [];
  private next = 0;

  /** Registers the main file; its virtual lines are its real lines. */
  constructor(mainFile: string, mainLines: number) {
    this.add(mainFile, mainLines);
  }

  /** Gives `file` a fresh range of virtual lines; returns the offset to add to its real lines. */
  add(file: string, lines: number, absolute?: string): number {
    const offset = this.next;
    this.ranges.push(absolute === undefined ? { file, offset, lines } : { file, offset, lines, absolute });
    // One spare line between files, so a file's last line never touches the next file's first.
    this.next += lines + 1;
    return offset;
  }

  /** How many lines the main file has (virtual lines up to this are the main file's). */
  get mainLines(): number {
    return this.ranges[0]!.lines;
  }

  /**
   * The directory relative paths written at a virtual line resolve from: `mainDir` for the main
   * file, the file's own directory otherwise.
   */
  dirOf(virtualLine: number, mainDir: string): string {
    if (virtualLine <= this.mainLines) return mainDir;
    const range = this.rangeOf(virtualLine);
    return dirname(range.absolute ?? resolve(range.file));
  }

  /** The real file and line of a virtual line (line 0 stays the main file's whole-file marker). */
  place(virtualLine: number): SourcePlace {
    const main = this.ranges[0]!;
    if (virtualLine <= 0) return { file: main.file, line: 0 };
    const range = this.rangeOf(virtualLine);
    return { file: range.file, line: virtualLine - range.offset };
  }

  private rangeOf(virtualLine: number): Range {
    let low = 0;
    let high = this.ranges.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.ranges[mid]!.offset < virtualLine) low = mid;
      else high = mid - 1;
    }
    return this.ranges[low]!;
  }

  /** `file:line` of a virtual line. */
  describe(virtualLine: number): string {
    const { file, line } = this.place(virtualLine);
    return line > 0 ? `${file}:${line}` : file;
  }

  /**
   * Moves issues recorded with virtual lines to their real files. A value inherited by many
   * clients is validated for each of them, so the same problem at the same place is reported
   * once, saying how many more clients share it.
   */
  relocate(issues: ConfigIssue[]): ConfigIssue[] {
    const first = new Map<string, { issue: ConfigIssue; more: number }>();
    for (const issue of issues) {
      // Issues of the main log carry virtual lines; others (parse errors of an included file) are real.
      const moved =
        issue.file === this.ranges[0]!.file && issue.line > 0 ? { ...issue, ...this.place(issue.line) } : issue;
      const key = `${moved.severity}|${moved.file}|${moved.line}|${moved.message.replace(SUBJECT, 'client *')}`;
      const seen = first.get(key);
      if (!seen) first.set(key, { issue: moved, more: 0 });
      else if (seen.issue.message !== moved.message) seen.more++;
    }
    return [...first.values()].map(({ issue, more }) =>
      more === 0
        ? issue
        : {
            ...issue,
            message: `${issue.message} (the same for ${more} more <client> element${more === 1 ? '' : 's'})`,
          },
    );
  }
}

/** The client a message is about ("client 10.0.0.5: …"), which differs between inheriting clients. */
const SUBJECT = /^client \S+?(?=:| )/;

/** Number of lines in a text (a final newline does not start another line). */
export function countLines(text: string): number {
  let lines = 1;
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) lines++;
  return lines;
}
