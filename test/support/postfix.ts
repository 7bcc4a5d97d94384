/**
 * A real Postfix (Debian's package) for the SMTP TLS tests: a private config directory, queue and
 * mail spool in a temp directory, smtpd listening only on 127.0.0.1:<port>, STARTTLS offered with
 * a fresh self-signed certificate (made by `openssl req` for CN=localhost, IP:127.0.0.1), SASL
 * logins on request (Cyrus sasldb), local delivery only (mail for anywhere else bounces).
 * `master -d` runs in the foreground as a child of the test and is stopped by its PID.
 *
 *   const mta = await startPostfix();                 // mta.port, mta.certificatePath
 *   … send to nobody@localhost …
 *   await mta.waitForDelivery('Subject: …');
 *   await mta.stop();
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from './smtp-catcher.js';

export interface Postfix {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Port of the TLS-from-the-first-byte listener (smtps, `secure="true"`); only with STARTTLS on. */
  readonly smtpsPort: number;
  /** The server's self-signed certificate (PEM): what `ca-file` must name to trust it. */
  readonly certificatePath: string;
  /** The mailbox local delivery writes for `nobody@localhost`. */
  readonly mailboxPath: string;
  /** Resolves with the mailbox once it contains `text`; rejects after `timeoutMs`. */
  waitForDelivery(text: string, timeoutMs?: number): Promise<string>;
  /** The mail log so far (for failure messages). */
  log(): string;
  /** Resolves with the mail log once it matches `pattern`; rejects after `timeoutMs`. */
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
  stop(): Promise<void>;
}

export interface PostfixOptions {
  /** Offer STARTTLS (default true). */
  starttls?: boolean;
  /**
   * SASL logins (Cyrus SASL, sasldb in the private config directory; PLAIN and LOGIN). Postfix
   * offers AUTH only after STARTTLS unless `authWithoutTls` (a misconfigured server, or what a
   * client sees when the network strips STARTTLS).
   */
  sasl?: { user: string; password: string; authWithoutTls?: boolean };
}

const MASTER = '/usr/lib/postfix/sbin/master';
const SERVICES = `
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
`;

/** Starts Postfix on a free loopback port; needs root (Postfix drops to its own user). */
export async function startPostfix(options: PostfixOptions = {}): Promise<Postfix> {
  if (userInfo().uid !== 0) throw new Error('startPostfix needs root: Postfix runs its daemons as the postfix user');
  const root = mkdtempSync(join(tmpdir(), 'fleetstat-postfix-'));
  chmodSync(root, 0o755); // the postfix user must reach the queue and spool below
  const conf = join(root, 'conf');
  const queue = join(root, 'queue');
  const data = join(root, 'data');
  const spool = join(root, 'mail');
  for (const dir of [conf, queue, data, spool]) mkdirSync(dir);
  chmodSync(spool, 0o1777);
  const postfixUser = Number(execFileSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).trim());
  chownSync(data, postfixUser, -1);

  const certificatePath = join(conf, 'cert.pem');
  const keyPath = join(conf, 'key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      keyPath,
      '-out',
      certificatePath,
      '-days',
      '2',
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=DNS:localhost,IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  chmodSync(keyPath, 0o600);

  const port = await findFreePort();
  const smtpsPort = await findFreePort();
  const starttls = options.starttls ?? true;
  const maillog = join(root, 'maillog');
  writeFileSync(
    join(conf, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'myhostname = localhost',
      'mydomain = localdomain',
      'mydestination = localhost',
      'mynetworks = 127.0.0.0/8',
      'relay_domains =',
      'relayhost =',
      // Local delivery only: anything not for localhost bounces at once, nothing leaves the machine.
      'default_transport = error:the test MTA delivers locally only',
      `mail_spool_directory = ${spool}`,
      'alias_maps =',
      'alias_database =',
      `maillog_file = ${maillog}`,
      `maillog_file_prefixes = ${root}`,
      'smtpd_banner = $myhostname ESMTP fleetstat-test',
      'biff = no',
      'smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination',
      ...(options.sasl
        ? [
            'smtpd_sasl_auth_enable = yes',
            'smtpd_sasl_type = cyrus',
            `cyrus_sasl_config_path = ${join(conf, 'sasl')}`,
            'smtpd_sasl_path = smtpd',
            'smtpd_sasl_local_domain = localhost',
            `smtpd_tls_auth_only = ${options.sasl.authWithoutTls ? 'no' : 'yes'}`,
          ]
        : []),
      ...(starttls
        ? [
            `smtpd_tls_cert_file = ${certificatePath}`,
            `smtpd_tls_key_file = ${keyPath}`,
            'smtpd_tls_security_level = may',
          ]
        : ['smtpd_tls_security_level = none']),
      '',
    ].join('\n'),
  );
  if (options.sasl) {
    const sasldb = join(conf, 'sasldb2');
    // Debian's Postfix reads the Cyrus application config from $config_directory/sasl/.
    mkdirSync(join(conf, 'sasl'));
    writeFileSync(
      join(conf, 'sasl', 'smtpd.conf'),
      `pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: ${sasldb}\nmech_list: PLAIN LOGIN\n`,
    );
    // The password goes on stdin (-p), never in argv.
    execFileSync('saslpasswd2', ['-f', sasldb, '-c', '-p', '-u', 'localhost', options.sasl.user], {
      input: options.sasl.password,
      stdio: ['pipe', 'ignore', 'inherit'],
    });
    chownSync(sasldb, postfixUser, -1);
    chmodSync(sasldb, 0o600);
  }
  const smtps = starttls ? `127.0.0.1:${smtpsPort} inet n - n - - smtpd -o smtpd_tls_wrappermode=yes\n` : '';
  writeFileSync(join(conf, 'master.cf'), `127.0.0.1:${port} inet n - n - - smtpd\n${smtps}${SERVICES}`);
  // `postfix check` creates the queue's subdirectories with the right owners.
  execFileSync('postfix', ['-c', conf, 'check'], { stdio: 'ignore' });

  const master: ChildProcess = spawn(MASTER, ['-c', conf, '-d'], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => master.once('exit', () => resolve()));
  const log = () => (existsSync(maillog) ? readFileSync(maillog, 'utf8') : '');
  const mailboxPath = join(spool, 'nobody');

  const stop = async () => {
    if (master.exitCode === null && master.signalCode === null) {
      master.kill('SIGTERM'); // master stops its children on SIGTERM
      await exited;
    }
    rmSync(root, { recursive: true, force: true });
  };

  try {
    await waitFor(
      () => log().includes('daemon started'),
      20_000,
      () => `Postfix did not start:\n${log()}`,
    );
    await waitForPort(port, 20_000);
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    host: '127.0.0.1',
    port,
    smtpsPort,
    certificatePath,
    mailboxPath,
    log,
    async waitForLog(pattern, timeoutMs = 30_000) {
      await waitFor(
        () => pattern.test(log()),
        timeoutMs,
        () => `the mail log never matched ${pattern}:\n${log()}`,
      );
      return log();
    },
    async waitForDelivery(text, timeoutMs = 30_000) {
      const read = () => (existsSync(mailboxPath) ? readFileSync(mailboxPath, 'utf8') : '');
      await waitFor(
        () => read().includes(text),
        timeoutMs,
        () => `no mail holding ${JSON.stringify(text)} delivered; mail log:\n${log()}`,
      );
      return read();
    },
    stop,
  };
}

async function waitFor(done: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(describe());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function waitForPort(port: number, timeoutMs: number): Promise<void> {
  const { connect } = await import('node:net');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`Postfix is not listening on 127.0.0.1:${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
