/**
 * The command line's manners: one form for defaults in every --help, one wording for shared
 * options, completion scripts for bash and zsh that complete real commands, no progress-bar
 * escapes on a dumb terminal, log lines without doubled prefixes, and the Node.js check.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI, fleetstat } from './support/cli.js';
import { requireTool } from './support/requirements.js';
import { formatRecord } from '../src/log/format-record.js';
import { checkNodeVersion, MIN_NODE_MAJOR } from '../src/cli/package-info.js';
import { canShowProgressBar } from '../src/collect/terminal.js';
import { openStore } from '../src/store/open-store.js';
import { migrate } from '../src/store/migrate.js';
import { ensureHost } from '../src/store/hosts.js';

const COMMANDS = [
  '',
  'collect',
  'serve',
  'hosts test',
  'config check',
  'config init',
  'db migrate',
  'db prune',
  'db backup',
  'db copy',
  'completion',
];

function sh(
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? Number((error as { code?: unknown }).code ?? -1) : 0, stdout, stderr });
    });
  });
}

describe('--help', () => {
  it('shows every default as "(default: VALUE)" and words shared options the same everywhere', async () => {
    const descriptions = new Map<string, Set<string>>();
    for (const command of COMMANDS) {
      const help = await fleetstat([...command.split(' ').filter(Boolean), '--help']);
      expect(help.code, command).toBe(0);
      const text = help.stdout.replace(/\n\s+(?=[^\s-])/g, ' ').replace(/ +/g, ' ');
      expect(text, command).not.toMatch(/\(default: "/);
      expect(text, command).not.toMatch(/\(default [^:]/);
      for (const match of text.matchAll(/^\s*(?:-c, )?(--db <url>|--config <file>) (.*)$/gm)) {
        descriptions.set(match[1]!, (descriptions.get(match[1]!) ?? new Set()).add(match[2]!.trim()));
      }
    }
    expect([...descriptions.get('--db <url>')!]).toHaveLength(1);
  });
});

describe('completion', () => {
  const bash = requireTool('bash', 'the bash completion script is run');
  const zsh = requireTool('zsh', 'the zsh completion script is checked');

  it.skipIf(!bash)('bash completes commands, subcommands and options from the command tree', async () => {
    const script = (await fleetstat(['completion', 'bash'])).stdout;
    const complete = async (...words: string[]) => {
      const program = `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _fleetstat; echo "\${COMPREPLY[*]}"`;
      const result = await sh(bash!, ['-c', program]);
      expect(result.stderr).toBe('');
      return result.stdout.trim();
    };
    expect(await complete('fleetstat', 'se')).toBe('serve');
    expect(await complete('fleetstat', 'db', 'c')).toBe('copy');
    expect(await complete('fleetstat', 'db', 'copy', '--b')).toBe('--batch-size');
    expect((await complete('fleetstat', 'config', '')).split(' ')).toEqual(expect.arrayContaining(['check', 'init']));
    expect(await complete('fleetstat', 'serve', '--config', 'x.xml', '--log-l')).toBe('--log-level');
  });

  it.skipIf(!zsh)('zsh gets a valid script with the same table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fleetstat-zsh-'));
    try {
      const file = join(dir, '_fleetstat');
      writeFileSync(file, (await fleetstat(['completion', 'zsh'])).stdout);
      expect((await sh(zsh!, ['-n', file])).code).toBe(0);
      expect(readFileSync(file, 'utf8').split('\n')[0]).toBe('#compdef fleetstat');
      const words = await sh(zsh!, ['-c', `source ${file} 2>/dev/null; _fleetstat_words "db"`]);
      expect(words.stdout.trim().split(' ')).toEqual(expect.arrayContaining(['migrate', 'prune', 'backup', 'copy']));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an unknown shell', async () => {
    const result = await fleetstat(['completion', 'fish']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('use bash or zsh');
  });
});

describe('progress bars', () => {
  it('are drawn only on a TTY whose TERM is set and not dumb', () => {
    expect(canShowProgressBar({ isTTY: true }, { TERM: 'xterm-256color' })).toBe(true);
    expect(canShowProgressBar({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(canShowProgressBar({ isTTY: true }, {})).toBe(false);
    expect(canShowProgressBar({ isTTY: false }, { TERM: 'xterm' })).toBe(false);
  });

  const script = requireTool('script', 'db copy runs on a pseudo-terminal');
  const dir = mkdtempSync(join(tmpdir(), 'fleetstat-tty-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.skipIf(!script)('db copy on a real terminal: a bar with TERM=xterm, plain lines with TERM=dumb', async () => {
    const source = `sqlite:${join(dir, 'source.sqlite')}`;
    const store = await openStore(source);
    await migrate(store);
    await ensureHost(store, { ip: '127.0.0.1', port: 22, name: 'one' });
    await store.close();
    const onTerminal = (term: string, target: string) =>
      sh(
        script!,
        ['-qec', `"${process.execPath}" "${CLI}" db copy --db ${source} --to sqlite:${join(dir, target)}`, '/dev/null'],
        { TERM: term },
      );
    const dumb = await onTerminal('dumb', 'dumb.sqlite');
    expect(dumb.code, dumb.stdout).toBe(0);
    expect(dumb.stdout).toContain('copy: hosts: 1 rows copied');
    expect(dumb.stdout).not.toContain('\x1b');
    const xterm = await onTerminal('xterm', 'xterm.sqlite');
    expect(xterm.code, xterm.stdout).toBe(0);
    expect(xterm.stdout).toContain('\x1b');
    expect(xterm.stdout).toMatch(/copy \[.*\] 100%/);
  });
});

describe('log lines', () => {
  it('name their component once, also when the message already starts with it', () => {
    const line = formatRecord({ time: 't', level: 'warn', component: 'mail', msg: 'mail: SMTP server unreachable' });
    expect(line).toBe('t WARN  mail: SMTP server unreachable\n');
    expect(formatRecord({ time: 't', level: 'info', component: 'retention', msg: 'pruned samples 1' })).toBe(
      't INFO  retention: pruned samples 1\n',
    );
  });
});

describe('Node.js version', () => {
  it('is stated in package.json engines and checked at start', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    expect(pkg.engines.node).toBe(`>=${MIN_NODE_MAJOR}`);
    expect(checkNodeVersion('18.20.4')).toEqual({
      ok: false,
      message: `fleetstat needs Node.js ${MIN_NODE_MAJOR} or later; this is Node.js 18.20.4`,
    });
    expect(checkNodeVersion('20.0.0')).toEqual({ ok: true });
    expect(checkNodeVersion('24.1.0')).toEqual({ ok: true });
    expect(checkNodeVersion(process.versions.node)).toEqual({ ok: true });
  });
});
