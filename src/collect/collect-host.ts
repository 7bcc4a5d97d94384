/**
 * Collects one host: connect → detect the OS → upload the probe → run it with a fresh key on
 * stdin → open and validate the sealed reply. Every failure is a StageError naming the stage;
 * the whole host is bounded by its timeout, so one stuck host cannot hold up a round.
 * Unix targets take all of it in one exec (collectUnixInOneExec); Windows hosts, and sudo with
 * a password, take the three-step generic path.
 */
import type { ClientConfig, Settings } from '../config/types.js';
import type { Report } from '../probe/report.js';
import { DETECT_COMMAND, parseDetectReply } from '../probe/detect.js';
import {
  EnvelopeError,
  MAX_REPLY_BYTES,
  newRunSecrets,
  openEnvelope,
  probeInputLine,
  type RunSecrets,
} from '../probe/envelope.js';
import {
  ONE_SHOT_EXIT,
  UNIX_UPLOAD_COMMAND,
  UPLOAD_EXIT,
  parseUploadedDir,
  splitOneShotReply,
  unixOneShotCommand,
  unixProbePayload,
  unixRunCommand,
} from '../probe/unix-commands.js';
import { windowsRunCommand, windowsUploadCommand, parseWindowsUploadedDir } from '../probe/windows-commands.js';
import { readableStderr } from '../probe/clixml.js';
import { openSession, type ExecResult, type SshSession } from '../ssh/session.js';
import type { HostKeyStore } from '../ssh/host-key-policy.js';
import type { ProbeScripts } from '../probe/scripts.js';
import { StageError, asStageError, type Stage } from '../errors/stage-error.js';
import { oneLine } from '../text/untrusted-text.js';

export interface HostContext {
  hostKeys: HostKeyStore;
  settings: Settings;
  scripts: ProbeScripts;
  /** Highest security event record id already stored for this host. */
  lastRecordId: number;
  /**
   * The probe's CPU sampling interval (cpu-ms): 0 when the round computes the figure from the
   * host's previous counters (src/collect/cpu-rate.ts); default the `cpu-sample` setting.
   */
  cpuMs?: number;
  /** Aborted when the collector shuts down: the host is abandoned at once. */
  signal?: AbortSignal;
}

export interface HostResult {
  report: Report;
  /** Bytes of probe script sent to the host. */
  uploadedBytes: number;
  /** What the probe wrote on stderr (diagnostics only, never parsed). */
  probeStderr: string;
}

const OUTPUT_EXCERPT = 300;

/** Remote output as one short, printable line (PowerShell's CLIXML stderr decoded first). */
export function excerpt(text: string): string {
  return oneLine(readableStderr(text), OUTPUT_EXCERPT);
}

/** Throws a StageError naming the exit code (or signal) and the target's stderr unless `result` succeeded. */
export function expectSuccess(result: ExecResult, stage: Stage, what: string): void {
  if (result.code === 0) return;
  const reason =
    result.code === null
      ? `ended by signal ${result.signal ?? 'unknown'} or a dropped connection`
      : `exit code ${result.code}`;
  const detail = excerpt(result.stderr);
  const hint = result.code === 127 ? 'a required command is missing on the target' : undefined;
  throw new StageError(stage, `${what} failed (${reason})${detail ? `: ${detail}` : ''}`, hint);
}

/** The probe's exit code for a missing tool (docs/envelope.md). */
const PROBE_TOOL_MISSING = 69;

/**
 * Exit codes our own commands give known failures (a temp area that is read-only or full, a tool
 * the probe needs): a clear stage and the target's message instead of a bare "exit code N".
 */
export function rejectKnownExit(result: ExecResult): void {
  if (result.code === UPLOAD_EXIT.noTempDir || result.code === UPLOAD_EXIT.writeFailed) {
    throw new StageError('upload', excerpt(result.stderr) || 'cannot create the private temp directory');
  }
  if (result.code === PROBE_TOOL_MISSING) {
    throw new StageError(
      'run',
      `the probe cannot run: ${excerpt(result.stderr) || 'a required tool is missing'}`,
      'install the named tool on the target',
    );
  }
}

/** Runs the whole collection of one host; rejects with a StageError. */
export async function collectHost(client: ClientConfig, ctx: HostContext): Promise<HostResult> {
  let stage: Stage = 'connect';
  let session: SshSession | undefined;
  let timer: NodeJS.Timeout | undefined;
  const abort = new AbortController();
  const onShutdown = () => abort.abort('shutdown');
  const timeoutMs = client.timeoutSeconds * 1000;

  const work = async (): Promise<HostResult> => {
    session = await openSession(client, {
      hostKeys: ctx.hostKeys,
      connectTimeoutMs: ctx.settings.connectTimeoutSeconds * 1000,
      signal: abort.signal,
    });

    // Unix targets in one exec; Windows (and sudo with a password) take the generic path below.
    if (!(client.sudo && client.password !== undefined)) {
      stage = 'run';
      const oneShot = await collectUnixInOneExec(session, client, ctx);
      if (oneShot) return oneShot;
    }

    stage = 'detect';
    const detectReply = await session.exec(DETECT_COMMAND, { maxStdoutBytes: 4096 });
    let target;
    try {
      target = parseDetectReply({
        stdout: detectReply.stdout.toString('utf8'),
        stderr: detectReply.stderr,
        exitCode: detectReply.code,
      });
    } catch (error) {
      throw new StageError('detect', (error as Error).message, {
        hint: 'is this a Unix shell or Windows OpenSSH?',
        cause: error,
      });
    }
    const windows = target.family === 'windows' ? target : undefined;
    const script = windows ? ctx.scripts.ps1 : ctx.scripts.sh;

    stage = 'upload';
    const upload = await session.exec(windows ? windowsUploadCommand(windows.shell) : UNIX_UPLOAD_COMMAND, {
      stdin: script,
      maxStdoutBytes: 4096,
    });
    rejectKnownExit(upload);
    expectSuccess(upload, 'upload', 'uploading the probe');
    const uploadedText = upload.stdout.toString('utf8');
    const dir = windows ? parseWindowsUploadedDir(uploadedText) : parseUploadedDir(uploadedText);
    if (!dir)
      throw new StageError('upload', `the target printed no usable temp directory path: ${excerpt(uploadedText)}`);

    stage = 'run';
    const secrets = newRunSecrets();
    const input = probeInputLine(secrets, {
      cpuMs: ctx.cpuMs ?? ctx.settings.cpuSampleMs,
      eventCap: ctx.settings.eventCap,
      lastRecordId: ctx.lastRecordId,
    });
    const sudo = windows || !client.sudo ? 'none' : client.password !== undefined ? 'password' : 'nopasswd';
    const stdin = sudo === 'password' ? `${client.password}\n${input}` : input;
    const run = await session.exec(windows ? windowsRunCommand(windows.shell, dir) : unixRunCommand(dir, sudo), {
      stdin,
      maxStdoutBytes: MAX_REPLY_BYTES,
    });
    rejectKnownExit(run);
    // sudo -S -v said no (unixRunCommand): the probe never ran; say which password was refused.
    if (sudo === 'password' && run.code === 1 && /incorrect password attempt/.test(run.stderr)) {
      throw new StageError(
        'run',
        `sudo refused the password of ${client.username}: ${excerpt(run.stderr)}`,
        "check the client's password and that its sudoers rule allows running sh",
      );
    }
    expectSuccess(run, 'run', 'the probe');

    stage = 'decrypt';
    return openReply(run.stdout, secrets, {
      uploadedBytes: Buffer.byteLength(script),
      probeStderr: excerpt(run.stderr),
    });
  };

  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => abort.abort('timeout'), timeoutMs);
    if (ctx.signal?.aborted) abort.abort('shutdown');
    ctx.signal?.addEventListener('abort', onShutdown, { once: true });
    abort.signal.addEventListener(
      'abort',
      () => {
        if (abort.signal.reason === 'done') return; // the host finished: no error to build
        reject(
          abort.signal.reason === 'shutdown'
            ? new StageError(stage, `abandoned during ${stage}: the collector is shutting down`)
            : new StageError(
                stage,
                `timed out after ${client.timeoutSeconds}s during ${stage}`,
                'the host or a command on it hangs',
              ),
        );
      },
      { once: true },
    );
  });
  try {
    return await Promise.race([work(), deadline]);
  } catch (error) {
    throw asStageError(error, stage);
  } finally {
    clearTimeout(timer);
    ctx.signal?.removeEventListener('abort', onShutdown);
    abort.abort('done'); // ends the connection even if it is still being opened
    session?.close();
  }
}

/**
 * Shell start-up files (a chatty .bashrc, a ForceCommand wrapper) may print before our output:
 * the envelope is the last line that starts with its version tag. Anything after it still fails
 * the envelope's own one-line check, and the MAC covers the line itself.
 */
export function withoutStartupNoise(stdout: Buffer): Buffer {
  const at = stdout.lastIndexOf('\nFLEETSTAT1 ');
  return at >= 0 ? stdout.subarray(at + 1) : stdout;
}

/** Opens and validates the probe's envelope; envelope failures become decrypt/validate StageErrors. */
function openReply(envelope: Buffer, secrets: RunSecrets, rest: Omit<HostResult, 'report'>): HostResult {
  try {
    return { report: openEnvelope(withoutStartupNoise(envelope), secrets), ...rest };
  } catch (error) {
    if (error instanceof EnvelopeError)
      throw new StageError(
        error.reason === 'schema' || error.reason === 'json' ? 'validate' : 'decrypt',
        error.message,
        { cause: error },
      );
    throw error;
  }
}

/**
 * The Unix fast path: detect, upload (gzip-compressed when the target has gzip) and run in one
 * exec (unixOneShotCommand), which saves two exec round trips and two remote shells per host.
 * Resolves null when the answer shows no POSIX sh (a Windows host): the caller goes on with
 * DETECT_COMMAND, which is also what a Windows host has then seen, a harmless echo.
 */
async function collectUnixInOneExec(
  session: SshSession,
  client: ClientConfig,
  ctx: HostContext,
): Promise<HostResult | null> {
  const sudo = client.sudo ? 'nopasswd' : 'none';
  const attempt = async (encoding: 'gzip' | 'plain') => {
    const secrets = newRunSecrets();
    const payload = unixProbePayload(ctx.scripts.sh, encoding);
    const input = probeInputLine(secrets, {
      cpuMs: ctx.cpuMs ?? ctx.settings.cpuSampleMs,
      eventCap: ctx.settings.eventCap,
      lastRecordId: ctx.lastRecordId,
    });
    const stdin = Buffer.concat([Buffer.from(input, 'utf8'), payload]);
    const reply = await session.exec(unixOneShotCommand({ sudo, encoding }), {
      stdin,
      maxStdoutBytes: MAX_REPLY_BYTES,
    });
    return { secrets, payload, reply };
  };
  let sent = await attempt('gzip');
  // No gzip on the target: send the probe as it is.
  if (sent.reply.code === ONE_SHOT_EXIT.noGzip) sent = await attempt('plain');
  const { secrets, payload, reply } = sent;

  const parts = splitOneShotReply(reply.stdout);
  if (!parts) return null;
  try {
    parseDetectReply({ stdout: parts.detect, stderr: reply.stderr, exitCode: reply.code });
  } catch (error) {
    throw new StageError('detect', (error as Error).message, {
      hint: 'is this a Unix shell or Windows OpenSSH?',
      cause: error,
    });
  }
  rejectKnownExit(reply);
  expectSuccess(reply, 'run', 'the probe');
  return openReply(parts.envelope, secrets, { uploadedBytes: payload.length, probeStderr: excerpt(reply.stderr) });
}
