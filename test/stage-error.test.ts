/**
 * The one list of stages and the StageError that carries one: docs/schema.md lists exactly the
 * stages the code can store in host_errors.stage, and wrapping an error keeps it as the `cause`
 * (unit checks, plus a real refused TCP connection through the ssh layer).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ClientConfig } from '../src/config/types.js';
import { STAGES, StageError, asStageError, isStage } from '../src/errors/stage-error.js';
import { HostKeyStore } from '../src/ssh/host-key-policy.js';
import { openSession } from '../src/ssh/session.js';
import { closedPort } from './support/fault-servers.js';

/** The backquoted values in the `stage` row of the `## host_errors` section of docs/schema.md, in order. */
function documentedStages(doc: string): string[] {
  const section = doc.split('\n## ').find((s) => s.startsWith('host_errors\n'));
  if (!section) throw new Error('docs/schema.md has no "## host_errors" section');
  const row = section.split('\n').find((line) => line.startsWith('| stage |'));
  if (!row) throw new Error('docs/schema.md: host_errors has no "| stage |" row');
  const meaning = row.split('|')[4] ?? '';
  // Only the list itself: a parenthesised remark after it may quote other words.
  const list = meaning.split('(')[0] ?? '';
  return [...list.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);
}

describe('stages', () => {
  it('docs/schema.md lists exactly the stages the code stores, in pipeline order', () => {
    const doc = readFileSync(new URL('../docs/schema.md', import.meta.url), 'utf8');
    expect(documentedStages(doc)).toEqual([...STAGES]);
  });

  it('the doc parser sees a stage added to the code only, or to the doc only', () => {
    const doc = readFileSync(new URL('../docs/schema.md', import.meta.url), 'utf8');
    const withExtra = doc.replace('`store`, ', '`store`, `teleport`, ');
    expect(withExtra).not.toBe(doc);
    expect(documentedStages(withExtra)).not.toEqual([...STAGES]);
    expect(documentedStages(doc)).not.toEqual([...STAGES, 'teleport']);
  });

  it('isStage accepts the listed stages and nothing else', () => {
    for (const stage of STAGES) expect(isStage(stage)).toBe(true);
    for (const other of ['timeout', 'CONNECT', '', 'connect ']) expect(isStage(other)).toBe(false);
  });
});

describe('StageError', () => {
  it('keeps what it wraps as the cause, and a StageError as it is', () => {
    const original = Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
    const wrapped = asStageError(original, 'upload');
    expect(wrapped).toBeInstanceOf(StageError);
    expect(wrapped.stage).toBe('upload');
    expect(wrapped.message).toBe('EACCES: permission denied');
    expect(wrapped.cause).toBe(original);
    expect(asStageError(wrapped, 'run')).toBe(wrapped);
    expect(asStageError('a string', 'run').cause).toBe('a string');
  });

  it('takes a hint alone or with a cause; no cause means none is set', () => {
    expect(new StageError('run', 'm', 'do this').hint).toBe('do this');
    const cause = new Error('inner');
    const both = new StageError('run', 'm', { hint: 'do that', cause });
    expect(both.hint).toBe('do that');
    expect(both.cause).toBe(cause);
    expect(both.describe()).toBe('m (do that)');
    expect('cause' in new StageError('run', 'm')).toBe(false);
  });

  describe('from the ssh layer', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetstat-stage-'));
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    it('a refused connection is a connect StageError whose cause is the socket error', async () => {
      const down = await closedPort('127.0.9.52');
      const hostKeys = await HostKeyStore.load(join(dir, 'known_hosts'));
      const client: ClientConfig = {
        name: 'down',
        ip: down.address,
        port: down.port,
        username: 'nobody',
        agent: false,
        alerts: [],
        timeoutSeconds: 20,
        hostKey: 'accept-new',
        sudo: false,
        line: 1,
        password: 'unused',
      };
      const error = await openSession(client, { hostKeys, connectTimeoutMs: 20_000 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StageError);
      expect((error as StageError).stage).toBe('connect');
      expect((error as StageError).message).toMatch(/connection refused/);
      expect(((error as StageError).cause as NodeJS.ErrnoException).code).toBe('ECONNREFUSED');
    });
  });
});
