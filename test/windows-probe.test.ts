/**
 * probe.ps1 without PowerShell: a real parser checks its syntax, its sealing constants are read
 * out of the script and used by a step-for-step Node re-implementation of Protect-Report, which
 * must agree with real openssl and with openEnvelope (the .NET test vectors), and the report
 * it builds must have exactly the schema's keys.
 */
import { execFileSync } from 'node:child_process';
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { newRunSecrets, openEnvelope, type RunSecrets } from '../src/probe/envelope.js';
import { reportSchema } from '../src/probe/report.js';
import { nodesOfType, parsePowerShell, syntaxErrors } from './fixtures/windows/powershell-parser.js';
import { requireTool } from './support/requirements.js';

const pwsh = requireTool('pwsh', 'the .NET sealing code of probe.ps1 is run to compare it with the test vectors');

const script = readFileSync(new URL('../src/probe/probe.ps1', import.meta.url), 'utf8');
const sample = JSON.parse(readFileSync(new URL('./fixtures/windows/report-sample.json', import.meta.url), 'utf8'));
const work = mkdtempSync(join(tmpdir(), 'fleetstat-ps1-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** `$Name = <value>` at the top of probe.ps1. */
function constant(name: string): string {
  const m = new RegExp(`^\\$${name} = (?:'([^']*)'|(\\d+))\\s*$`, 'm').exec(script);
  if (!m) throw new Error(`probe.ps1 has no constant $${name}`);
  return m[1] ?? m[2]!;
}

interface SealParams {
  version: string;
  header: string;
  iterations: number;
  keyBytes: number;
  ivBytes: number;
  hash: string;
  cipher: string;
  macTemplate: string;
}

/** The parameters Protect-Report uses, as written in the script. */
function paramsFromScript(): SealParams {
  const body = /function Protect-Report[\s\S]*?\n\}/.exec(script)?.[0] ?? '';
  const kdf = /function Get-KeyIv[\s\S]*?\n\}/.exec(script)?.[0] ?? '';
  const hash =
    /New-Object Security\.Cryptography\.Rfc2898DeriveBytes -ArgumentList \$EncPass, \$Salt, \$Pbkdf2Iterations, \(\[Security\.Cryptography\.HashAlgorithmName\]::(\w+)\)/.exec(
      kdf,
    )?.[1];
  const mode = /CipherMode\]::(\w+)/.exec(body)?.[1];
  const padding = /PaddingMode\]::(\w+)/.exec(body)?.[1];
  const macTemplate = /HMACSHA256[\s\S]*?GetBytes\("([^"]+)"\)/.exec(body)?.[1];
  if (!hash || !mode || !padding || !macTemplate) throw new Error('Protect-Report no longer has the expected shape');
  expect(padding).toBe('PKCS7');
  expect(kdf).toMatch(/GetBytes\(\$KeyBytes \+ \$IvBytes\)/);
  expect(body).toContain('$keyIv = Get-KeyIv $EncPass $Salt');
  expect(body).toMatch(/\$aes\.Key = \[byte\[\]\]\$keyIv\[0\.\.\(\$KeyBytes - 1\)\]/);
  expect(body).toMatch(/\$aes\.IV = \[byte\[\]\]\$keyIv\[\$KeyBytes\.\.\(\$KeyBytes \+ \$IvBytes - 1\)\]/);
  expect(body).toMatch(
    /\[Array\]::Copy\(\$header, 0, \$blob, 0[\s\S]*\[Array\]::Copy\(\$Salt, 0, \$blob, \$header\.Length[\s\S]*\[Array\]::Copy\(\$cipher/,
  );
  expect(body).toContain("$_.ToString('x2')");
  expect(body).toContain('return "$EnvelopeVersion $RunId $b64 $macHex"');
  const keyBytes = Number(constant('KeyBytes'));
  return {
    version: constant('EnvelopeVersion'),
    header: constant('SaltHeader'),
    iterations: Number(constant('Pbkdf2Iterations')),
    keyBytes,
    ivBytes: Number(constant('IvBytes')),
    hash: hash.toLowerCase(),
    cipher: `aes-${keyBytes * 8}-${mode.toLowerCase()}`,
    macTemplate,
  };
}

/** Node re-implementation of Protect-Report, one .NET call per line. */
function sealLikePs1(p: SealParams, json: string, s: RunSecrets, salt: Buffer): string {
  const keyIv = pbkdf2Sync(Buffer.from(s.encPass, 'utf8'), salt, p.iterations, p.keyBytes + p.ivBytes, p.hash); // Rfc2898DeriveBytes(string → UTF-8)
  const aes = createCipheriv(
    p.cipher,
    keyIv.subarray(0, p.keyBytes),
    keyIv.subarray(p.keyBytes, p.keyBytes + p.ivBytes),
  ); // PKCS7 is Node's default
  const cipher = Buffer.concat([aes.update(Buffer.from(json, 'utf8')), aes.final()]);
  const b64 = Buffer.concat([Buffer.from(p.header, 'ascii'), salt, cipher]).toString('base64');
  const macInput = p.macTemplate.replace('$EnvelopeVersion', p.version).replace('$RunId', s.runId).replace('$b64', b64);
  const mac = createHmac('sha256', Buffer.from(s.macKey, 'hex')).update(Buffer.from(macInput, 'ascii')).digest('hex');
  return `${p.version} ${s.runId} ${b64} ${mac}`;
}

function openssl(args: string[], password: string, input: Buffer): Buffer {
  const file = join(work, `in-${randomBytes(4).toString('hex')}`);
  writeFileSync(file, input);
  // -pass stdin keeps the test password out of argv, like the probe's pipe does.
  return execFileSync('openssl', ['enc', ...args, '-pass', 'stdin', '-in', file], { input: `${password}\n` });
}

describe('probe.ps1 syntax and encoding', () => {
  it('parses as PowerShell without ERROR or MISSING nodes', async () => {
    expect(syntaxErrors(await parsePowerShell(script))).toEqual([]);
  });
  it('is pure ASCII (Windows PowerShell reads BOM-less scripts in the ANSI code page)', () => {
    expect(script).toMatch(/^[\x09\x0a\x0d\x20-\x7e]*$/);
  });
  it('only defines functions when dot-sourced, so Protect-Report can be called on its own', () => {
    expect(script.trimEnd().split('\n').at(-1)).toBe(
      "if ($MyInvocation.InvocationName -ne '.') { exit (Invoke-Probe) }",
    );
  });
  it('reads the input line from stdin and has no env, file-write or process-start calls in its text (the run itself: windows-probe-secrets.test.ts)', () => {
    expect(script).toContain('[Console]::In.ReadLine()');
    expect(script).not.toMatch(/\$env:\w+\s*=|SetEnvironmentVariable|Set-Content|Out-File|WriteAll|Start-Process/);
  });
  it('docs/windows.md shows the event query and its bounds as the script has them', () => {
    const doc = readFileSync(new URL('../docs/windows.md', import.meta.url), 'utf8');
    const xpath = /^ {2}\$xpath = "([^"]+)"$/m.exec(script)?.[1];
    expect(xpath).toBe('*[System[EventRecordID >= $low and EventRecordID <= $high]]');
    expect(script).toContain(
      'Get-WinEvent -LogName Security -FilterXPath $xpath -MaxEvents ($high - $low) -ErrorAction Stop',
    );
    expect(doc).toContain(`\`Get-WinEvent -LogName Security -FilterXPath "${xpath}" -MaxEvents ($high - $low)\``);
    expect(script).toMatch(/^\$MaxBacklogRecords = 20000$/m);
    expect(doc).toContain('never\nmore than 20000 records below the newest one (`$MaxBacklogRecords`)');
    expect(script).toMatch(/^\$MaxEventBytes = 2097152$/m);
    expect(doc).toContain('at most 2 MiB of JSON (`$MaxEventBytes`)');
    expect(script).toMatch(/^\$MaxReportBytes = 3670016$/m);
    expect(doc).toContain('under 3.5 MiB (`$MaxReportBytes`)');
  });
  it('uses the exit codes of docs/envelope.md', () => {
    for (const code of [64, 69, 70]) expect(script).toContain(`return ${code}`);
  });
});

describe('envelope test vectors for the .NET sealing code', () => {
  const params = paramsFromScript();

  it('uses the parameters docs/envelope.md fixes', () => {
    expect(params).toMatchObject({
      version: 'FLEETSTAT1',
      header: 'Salted__',
      iterations: 1000,
      keyBytes: 32,
      ivBytes: 16,
      hash: 'sha256',
      cipher: 'aes-256-cbc',
    });
    expect(params.macTemplate).toBe('$EnvelopeVersion $RunId $b64');
  });

  it('encrypts exactly like openssl enc -aes-256-cbc -pbkdf2 -md sha256 -iter 1000 for a fixed salt', () => {
    const secrets = newRunSecrets();
    const salt = Buffer.from('a1b2c3d4e5f60718', 'hex');
    const json = JSON.stringify(sample);
    const line = sealLikePs1(params, json, secrets, salt);
    const blob = Buffer.from(line.split(' ')[2]!, 'base64');
    const reference = openssl(
      ['-aes-256-cbc', '-pbkdf2', '-md', 'sha256', '-iter', '1000', '-S', salt.toString('hex')],
      secrets.encPass,
      Buffer.from(json),
    );
    expect(blob.subarray(0, 8).toString('ascii')).toBe('Salted__');
    expect(blob.subarray(8, 16)).toEqual(salt);
    expect(blob.subarray(16).equals(reference)).toBe(true);
    // and openssl decrypts the whole blob, header included
    expect(
      openssl(['-d', '-aes-256-cbc', '-pbkdf2', '-md', 'sha256', '-iter', '1000'], secrets.encPass, blob).toString(
        'utf8',
      ),
    ).toBe(json);
  });

  it('is accepted by openEnvelope, which returns the report', () => {
    const secrets = newRunSecrets();
    const line = sealLikePs1(params, JSON.stringify(sample), secrets, randomBytes(8));
    expect(openEnvelope(`${line}\n`, secrets)).toEqual(reportSchema.parse(sample));
  });

  it.skipIf(!pwsh)(
    'the real Protect-Report, run by pwsh, gives the same line for the same inputs',
    () => {
      const secrets = newRunSecrets();
      const salt = Buffer.from('0102030405060708', 'hex');
      const json = JSON.stringify(sample);
      const jsonFile = join(work, 'sample.json');
      writeFileSync(jsonFile, json);
      // Dot-sourced, the probe only defines its functions; secrets go on stdin, not argv.
      const command =
        `. '${join(import.meta.dirname, '../src/probe/probe.ps1')}'; $s = [Console]::In.ReadLine().Split(' '); ` +
        `[Console]::Out.Write((Protect-Report ([IO.File]::ReadAllText('${jsonFile}')) $s[0] $s[1] $s[2] ([byte[]](1..8))))`;
      const line = execFileSync(pwsh!, ['-NoProfile', '-NonInteractive', '-Command', command], {
        input: `${secrets.runId} ${secrets.encPass} ${secrets.macKey}\n`,
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(line).toBe(sealLikePs1(params, json, secrets, salt));
      expect(openEnvelope(line, secrets)).toEqual(reportSchema.parse(sample));
    },
    300_000,
  );

  it('would catch a drift: other iterations, header or MAC input are refused', () => {
    const secrets = newRunSecrets();
    const json = JSON.stringify(sample);
    const drifted = [
      { ...params, iterations: 10000 },
      { ...params, header: 'Salted_!' },
      { ...params, macTemplate: '$RunId $b64' },
    ];
    for (const p of drifted)
      expect(() => openEnvelope(sealLikePs1(p, json, secrets, randomBytes(8)), secrets)).toThrow();
  });
});

/** Every key of a zod object schema, nested objects and arrays of objects included. */
function schemaKeys(schema: z.ZodType, into = new Set<string>()): Set<string> {
  if (schema instanceof z.ZodObject) {
    for (const [key, value] of Object.entries(schema.shape)) {
      into.add(key);
      schemaKeys(value, into);
    }
  } else if (schema instanceof z.ZodArray) schemaKeys(schema.element as z.ZodType, into);
  else if (schema instanceof z.ZodNullable || schema instanceof z.ZodOptional)
    schemaKeys(schema.unwrap() as z.ZodType, into);
  return into;
}

describe('the report probe.ps1 builds', () => {
  it.skipIf(!pwsh)(
    'stays under its size limit however long its lists are: events, then users are halved, with a warning',
    () => {
      const command = `. '${join(import.meta.dirname, '../src/probe/probe.ps1')}'; $MaxReportBytes = 8000
      $users = @(foreach ($i in 1..300) { [ordered]@{ name = "user$i"; tty = 'rdp'; from = ''; login_at = '' } })
      $items = @(foreach ($i in 1..50) { [ordered]@{ record_id = $i; raw = 'x' * 100 } })
      $r = [ordered]@{ events = [ordered]@{ readable = $true; truncated = $false; note = ''; items = $items }; users = $users; nics = @(); disks = @(); warnings = @() }
      [Console]::Out.Write((ConvertTo-BoundedJson $r))`;
      const json = execFileSync(pwsh!, ['-NoProfile', '-NonInteractive', '-Command', command], {
        encoding: 'utf8',
        timeout: 300_000,
      });
      expect(Buffer.byteLength(json)).toBeLessThanOrEqual(8000);
      const report = JSON.parse(json);
      expect(report.events).toMatchObject({ truncated: true, items: [] });
      expect(report.users.length).toBeGreaterThan(0);
      expect(report.users.length).toBeLessThan(300);
      expect(report.users[0].name).toBe('user1');
      expect(report.warnings).toEqual(
        expect.arrayContaining([
          'report over 8000 bytes: events cut to 0',
          expect.stringMatching(/^report over 8000 bytes: users cut to \d+$/),
        ]),
      );
    },
    300_000,
  );

  it('has exactly the keys of report schema v1 in its [ordered] hashtables', async () => {
    const tree = await parsePowerShell(script);
    const keys = new Set<string>();
    for (const hash of nodesOfType(tree, 'hash_literal_expression')) {
      if (script.slice(hash.startIndex - '[ordered]'.length, hash.startIndex) !== '[ordered]') continue;
      for (const entry of hash.descendantsOfType('hash_entry')) {
        const key = entry?.childForFieldName('key') ?? entry?.children.find((c) => c?.type === 'key_expression');
        if (key) keys.add(key.text);
      }
    }
    expect([...keys].sort()).toEqual([...schemaKeys(reportSchema)].sort());
  });
  it('says probe ps1 and schema 1, and the hand-written sample of its output passes the schema', () => {
    expect(script).toMatch(/schema = 1; probe = 'ps1'/);
    expect(reportSchema.safeParse(sample).success).toBe(true);
  });
});
