/**
 * PowerShell started with -EncodedCommand and redirected output (our Windows commands under
 * cmd.exe) writes its error, warning and progress streams to stderr as CLIXML. The collector
 * turns that into the text a console would have shown: real pwsh output here, then the edge cases.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { readableStderr } from '../src/probe/clixml.js';
import { excerpt, expectSuccess } from '../src/collect/collect-host.js';
import { encodedPowerShell } from '../src/probe/windows-commands.js';
import { requireTool } from './support/requirements.js';

const pwsh = requireTool('pwsh', 'real CLIXML comes from a real PowerShell');

describe.skipIf(!pwsh)('CLIXML from a real PowerShell run as the collector runs it under cmd.exe', () => {
  it('becomes the error and warning text in the host error, progress records dropped', () => {
    const script = [
      "Write-Progress -Activity 'Preparing modules for first use.' -Status 'loading' -PercentComplete 10",
      'Write-Warning \'disk <C:> is "slow" & full\'',
      "Write-Error 'fleetstat run failed: Method invocation is supported only on core types in this language mode.'",
      'exit 70',
    ].join('\n');
    const [, ...args] = encodedPowerShell('cmd', script).split(' ');
    const run = spawnSync(pwsh!, args, {
      encoding: 'utf8',
      input: '',
      timeout: 300_000,
      env: { ...process.env, POWERSHELL_TELEMETRY_OPTOUT: '1' },
    });
    expect(run.status).toBe(70);
    expect(run.stderr).toMatch(/^#< CLIXML\r?\n<Objs /);
    const text = readableStderr(run.stderr);
    expect(text).toContain('disk <C:> is "slow" & full');
    expect(text).toContain(
      'fleetstat run failed: Method invocation is supported only on core types in this language mode.',
    );
    expect(text).not.toMatch(/Preparing modules|<Objs|_x00|\u001b|\[31;1m/);
    expect(() =>
      expectSuccess(
        { stdout: Buffer.alloc(0), stderr: run.stderr, code: run.status, signal: null },
        'run',
        'the probe',
      ),
    ).toThrow(
      /^the probe failed \(exit code 70\): disk <C:> is "slow" & full .*fleetstat run failed: Method invocation is supported only on core types/,
    );
  }, 300_000);
});

describe('readableStderr', () => {
  it('decodes entities, _xHHHH_ escapes and several CLIXML blocks; keeps plain text before the marker', () => {
    const stderr =
      'plain line\n#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">a &amp; b_x000D__x000A_</S><S S="Error">tab_x0009_end &#x263A;</S></Objs>' +
      '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="verbose">hidden</S><S S="warning">w</S></Objs>';
    expect(readableStderr(stderr)).toBe('plain line\na & b\ntab\tend \u263a\nw');
  });
  it('leaves other text as it is, minus ANSI colours', () => {
    expect(readableStderr('fleetstat probe: needs openssl\n')).toBe('fleetstat probe: needs openssl\n');
    expect(readableStderr('\u001b[31;1mError:\u001b[0m x')).toBe('Error: x');
  });
  it('a CLIXML stderr with only progress records leaves nothing to show', () => {
    expect(
      excerpt(
        '#< CLIXML\r\n<Objs Version="1.1.0.1"><Obj S="progress" RefId="0"><MS><PR N="Record"><AV>Preparing modules for first use.</AV></PR></MS></Obj></Objs>',
      ),
    ).toBe('');
  });
});
