/**
 * The failed-host line that serve logs and the non-terminal progress prints (failureLine of
 * round.ts): its form, and that a longest stage message with its hint is never cut. Written to
 * kill mutants of round.ts that the round tests (which never print) cannot see.
 */
import { describe, expect, it } from 'vitest';
import { failureLine } from '../src/collect/round.js';
import type { ClientConfig } from '../src/config/types.js';
import { MAX_STAGE_MESSAGE_CHARS, StageError } from '../src/errors/stage-error.js';

// failureLine reads only the client's name.
const client = { name: 'web1' } as ClientConfig;

describe('failureLine', () => {
  it('names the host, the stage and the failure on one line', () => {
    const error = new StageError('auth', 'permission denied\n(publickey)', 'check the key');
    expect(failureLine(client, error)).toBe('FAIL web1 [auth] permission denied (publickey) (check the key)');
  });

  it('keeps a message and a hint of the longest stage length whole', () => {
    const message = `m${'x'.repeat(MAX_STAGE_MESSAGE_CHARS - 2)}M`;
    const hint = `h${'y'.repeat(MAX_STAGE_MESSAGE_CHARS - 2)}H`;
    const error = new StageError('connect', message, hint);
    expect(error.describe()).toBe(`${message} (${hint})`);
    expect(failureLine(client, error)).toBe(`FAIL web1 [connect] ${message} (${hint})`);
  });
});
