/** Whether a stream is a terminal that can show a redrawn progress bar. */

/**
 * True only for a TTY whose TERM is set and not "dumb": elsewhere (pipes, files, cron, Emacs
 * shells, CI logs) cursor escapes would end up as garbage in the output.
 */
export function canShowProgressBar(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): boolean {
  return stream.isTTY === true && env.TERM !== undefined && env.TERM !== '' && env.TERM !== 'dumb';
}
