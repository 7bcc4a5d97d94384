/**
 * SMTP and TLS against a real MTA (Debian's Postfix on loopback, self-signed certificate,
 * STARTTLS, Cyrus SASL logins, local delivery) and a hostile server (the catcher offering AUTH without STARTTLS, as
 * a network that strips STARTTLS would): the password never travels without TLS, `ca-file`
 * trusts a self-signed server, `tls-verify="false"` works when asked for, and certificate
 * failures are reported as TLS failures, not as an unreachable server. Config parsing is part
 * of the path: each case starts from XML.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { analyzeConfig, parseConfig } from '../src/config/index.js';
import type { SmtpConfig } from '../src/config/types.js';
import { drainOutbox } from '../src/notify/drain-outbox.js';
import { enqueueMail } from '../src/notify/outbox.js';
import { smtpTransport } from '../src/notify/smtp-transport.js';
import { migrate } from '../src/store/migrate.js';
import { openStore } from '../src/store/open-store.js';
import { requireTool } from './support/requirements.js';
import { startPostfix, type Postfix } from './support/postfix.js';
import { startSmtpCatcher, type SmtpCatcher } from './support/smtp-catcher.js';

const PASSWORD = 'sm7p-s3cret-never-in-clear';
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'fleetstat-smtp-tls-'));
  writeFileSync(join(dir, 'smtp.pw'), `${PASSWORD}\n`, { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function smtpFrom(attributes: string): SmtpConfig {
  const xml = `<clients><smtp ${attributes} from="fleetstat@localhost"/></clients>`;
  const config = parseConfig(xml, join(dir, 'config.xml'));
  if (!config.smtp) throw new Error('no smtp in config');
  return config.smtp;
}

/** Queues one mail and drains it through the configured server; returns the drain result and the row. */
async function sendThrough(smtp: SmtpConfig, subject: string) {
  const store = await openStore('sqlite::memory:');
  const transport = smtpTransport(smtp, { timeoutMs: 10_000, deliveryTimeoutMs: 30_000 });
  try {
    await migrate(store);
    const now = new Date();
    await enqueueMail(store.db, { to: 'nobody@localhost', subject, body: `body of ${subject}`, now });
    const result = await drainOutbox(store.db, transport, { now });
    const row = await store.db.selectFrom('outbox').selectAll().executeTakeFirstOrThrow();
    return { result, row };
  } finally {
    transport.close?.();
    await store.close();
  }
}

const postfixPath = requireTool('postfix', 'the SMTP TLS tests run a real Postfix');
const saslPath = requireTool('saslpasswd2', 'the SMTP login tests give Postfix a SASL user (sasl2-bin)');

describe.skipIf(!postfixPath)('Postfix with STARTTLS and a self-signed certificate', () => {
  let mta: Postfix;
  beforeAll(async () => {
    mta = await startPostfix();
  }, 60_000);
  afterAll(async () => {
    await mta?.stop();
  });

  it('delivers over STARTTLS when ca-file names the server certificate', async () => {
    const smtp = smtpFrom(`host="127.0.0.1" port="${mta.port}" require-tls="true" ca-file="${mta.certificatePath}"`);
    const { result } = await sendThrough(smtp, 'trusted through ca-file');
    expect(result, mta.log()).toMatchObject({ sent: 1, deferred: 0 });
    const mailbox = await mta.waitForDelivery('Subject: trusted through ca-file');
    // "with ESMTPS": Postfix received it over TLS (RFC 3848).
    expect(mailbox).toMatch(/by localhost \(Postfix\) with ESMTPS/);
  });

  it('reports an unverifiable certificate as a TLS verification failure, sends nothing and keeps the mail', async () => {
    const smtp = smtpFrom(`host="127.0.0.1" port="${mta.port}" require-tls="true"`);
    const { result, row } = await sendThrough(smtp, 'must not go out unverified');
    expect(result).toMatchObject({ sent: 0, deferred: 1 });
    expect(result.lastError).toMatch(/TLS certificate verification failed: .*self[- ]signed/i);
    expect(result.lastError).toMatch(/ca-file/);
    expect(result.lastError).not.toMatch(/unreachable/);
    expect(row.sent_at).toBeNull();
    expect(Number(row.attempts)).toBe(0); // the mail is not at fault
    expect(mta.log()).not.toMatch(/must not go out unverified/);
  });

  it('verifies TLS from the first byte (secure="true") the same way', async () => {
    const untrusted = await sendThrough(
      smtpFrom(`host="127.0.0.1" port="${mta.smtpsPort}" secure="true"`),
      'smtps unverified',
    );
    expect(untrusted.result).toMatchObject({ sent: 0, deferred: 1 });
    expect(untrusted.result.lastError).toMatch(/TLS certificate verification failed: .*self[- ]signed/i);
    expect(untrusted.result.lastError).not.toMatch(/unreachable/);
    const trusted = await sendThrough(
      smtpFrom(`host="127.0.0.1" port="${mta.smtpsPort}" secure="true" ca-file="${mta.certificatePath}"`),
      'smtps trusted',
    );
    expect(trusted.result, mta.log()).toMatchObject({ sent: 1 });
    await mta.waitForDelivery('Subject: smtps trusted');
  });

  it('sends with tls-verify="false", and the config warns about it', async () => {
    const xml = `<clients><smtp host="127.0.0.1" port="${mta.port}" require-tls="true" tls-verify="false" from="fleetstat@localhost"/></clients>`;
    const check = analyzeConfig(xml, join(dir, 'config.xml'));
    expect(
      check.issues
        .filter((i) => i.severity === 'warning')
        .map((i) => i.message)
        .join('\n'),
    ).toMatch(/tls-verify="false".*not checked/);
    const { result } = await sendThrough(check.config!.smtp!, 'unverified by request');
    expect(result, mta.log()).toMatchObject({ sent: 1 });
    await mta.waitForDelivery('Subject: unverified by request');
  });
});

describe.skipIf(!postfixPath || !saslPath)('Postfix with SASL logins', () => {
  let tlsMta: Postfix;
  let plainMta: Postfix;
  beforeAll(async () => {
    [tlsMta, plainMta] = await Promise.all([
      startPostfix({ sasl: { user: 'fleetstat', password: PASSWORD } }),
      // Misconfigured, or what the client sees when the network strips STARTTLS: AUTH offered in clear.
      startPostfix({ starttls: false, sasl: { user: 'fleetstat', password: PASSWORD, authWithoutTls: true } }),
    ]);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([tlsMta?.stop(), plainMta?.stop()]);
  });

  it('logs in over STARTTLS and delivers', async () => {
    const smtp = smtpFrom(
      `host="127.0.0.1" port="${tlsMta.port}" user="fleetstat" password-file="smtp.pw" ca-file="${tlsMta.certificatePath}"`,
    );
    const { result } = await sendThrough(smtp, 'sent after a login over TLS');
    expect(result, tlsMta.log()).toMatchObject({ sent: 1 });
    const mailbox = await tlsMta.waitForDelivery('Subject: sent after a login over TLS');
    expect(mailbox).toMatch(/with ESMTPSA/); // S: TLS, A: authenticated (RFC 3848)
    expect(tlsMta.log()).toMatch(/sasl_method=PLAIN, sasl_username=fleetstat/);
  });

  it('never logs in to a Postfix that offers AUTH without TLS', async () => {
    const smtp = smtpFrom(`host="127.0.0.1" port="${plainMta.port}" user="fleetstat" password-file="smtp.pw"`);
    const { result } = await sendThrough(smtp, 'must not log in in clear');
    expect(result).toMatchObject({ sent: 0, deferred: 1 });
    expect(result.lastError).toMatch(/refused STARTTLS.*password is never sent without TLS/);
    // Postfix's session summary: STARTTLS asked for and refused (0 of 1), no AUTH command at all.
    const log = await plainMta.waitForLog(/disconnect from .* ehlo=\d+ starttls=0\/1/);
    expect(log).not.toMatch(/auth=|sasl_method|authentication failed/);
  });
});

describe('credentials never travel without TLS', () => {
  let catcher: SmtpCatcher;
  beforeAll(async () => {
    catcher = await startSmtpCatcher({ offerPlainAuth: true }); // no STARTTLS, AUTH PLAIN offered in clear
  });
  afterAll(async () => {
    await catcher?.stop();
  });

  it('refuses to log in to a server that offers no STARTTLS, and says why', async () => {
    const smtp = smtpFrom(`host="127.0.0.1" port="${catcher.port}" user="fleetstat" password-file="smtp.pw"`);
    const { result, row } = await sendThrough(smtp, 'credentials must stay home');
    expect(catcher.logins).toEqual([]);
    expect(catcher.messages).toEqual([]);
    expect(result).toMatchObject({ sent: 0, deferred: 1 });
    expect(result.lastError).toMatch(/TLS failure.*refused STARTTLS.*password is never sent without TLS/);
    expect(result.lastError).not.toMatch(/unreachable/);
    expect(result.lastError).not.toContain(PASSWORD);
    expect(row.sent_at).toBeNull();
  });

  it('still sends without credentials to a server that offers no STARTTLS (opportunistic TLS)', async () => {
    const smtp = smtpFrom(`host="127.0.0.1" port="${catcher.port}"`);
    const loginsBefore = catcher.logins.length;
    const { result } = await sendThrough(smtp, 'no secrets here');
    expect(result).toMatchObject({ sent: 1 });
    expect(catcher.logins).toHaveLength(loginsBefore);
  });
});

describe('ca-file and tls-verify in the config', () => {
  const issues = (attributes: string) =>
    analyzeConfig(`<clients>\n<smtp host="127.0.0.1" ${attributes} from="a@b.c"/>\n</clients>`, join(dir, 'config.xml'))
      .issues.filter((i) => i.message.includes('smtp'))
      .map((i) => `${i.line}: ${i.message}`);

  it('reports a missing, non-PEM, or contradictory ca-file on its line', () => {
    writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
    expect(issues('ca-file="missing.pem"')).toEqual([
      expect.stringMatching(/^2: smtp ca-file .*missing\.pem is not readable \(ENOENT\)/),
    ]);
    expect(issues('ca-file="not-a-cert.pem"')).toEqual([
      expect.stringMatching(/^2: smtp ca-file .*not-a-cert\.pem holds no PEM certificate/),
    ]);
    expect(issues('ca-file="not-a-cert.pem" tls-verify="false"').join('\n')).toMatch(
      /ca-file .*or tls-verify="false".*not both/,
    );
    expect(issues('tls-verify="maybe"').join('\n')).toMatch(/tls-verify/);
  });

  it('verifies by default', () => {
    expect(smtpFrom('host="127.0.0.1"')).toMatchObject({ tlsVerify: true });
    expect(smtpFrom('host="127.0.0.1"').ca).toBeUndefined();
  });
});
