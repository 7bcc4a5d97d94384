/**
 * A Windows Security log that cannot be read is mailed once when it happens, not every run, and
 * the state survives the alert evaluation that prunes rules no longer configured.
 */
import { describe, expect, it } from 'vitest';
import { securityLogBecameUnreadable, SECURITY_LOG_RULE } from '../src/alerts/security-log-state.js';
import { evaluateHostAlerts } from '../src/alerts/evaluate-host-alerts.js';
import { ensureHost } from '../src/store/hosts.js';
import { renderSecurityEventsMail } from '../src/notify/security-events-mail.js';
import { testDialects, useMigratedStore } from './support/databases.js';
import { makeReport } from './support/report-factory.js';

describe.each(testDialects())('security-log readability on %s', (dialect) => {
  const db = useMigratedStore(dialect);

  it('is reported once per change and kept by the alert evaluation', async () => {
    const hostId = await ensureHost(db.store, { ip: '10.0.0.77', port: 22, name: 'win1' });
    const at = (minute: number) => new Date(Date.UTC(2026, 10, 25, 10, minute));
    expect(await securityLogBecameUnreadable(db.store.db, hostId, true, at(0))).toBe(false);
    expect(await securityLogBecameUnreadable(db.store.db, hostId, false, at(1))).toBe(true);
    await evaluateHostAlerts(db.store.db, {
      hostId,
      hostName: 'win1',
      ip: '10.0.0.77',
      rules: [],
      report: makeReport(),
      now: at(2),
    });
    expect(await securityLogBecameUnreadable(db.store.db, hostId, false, at(3))).toBe(false);
    expect(await securityLogBecameUnreadable(db.store.db, hostId, true, at(4))).toBe(false);
    expect(await securityLogBecameUnreadable(db.store.db, hostId, false, at(5))).toBe(true);
    const row = await db.store.db
      .selectFrom('alerts')
      .selectAll()
      .where('host_id', '=', hostId)
      .where('rule', '=', SECURITY_LOG_RULE)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('firing');
  });

  it('the mail for an unreadable log says so', () => {
    const mail = renderSecurityEventsMail({
      hostName: 'win1',
      ip: '10.0.0.77',
      events: [],
      truncated: false,
      readable: false,
      note: 'Security log needs Administrator rights',
      at: new Date(),
    });
    expect(`${mail.subject}\n${mail.body}`).toMatch(/could not be read|not readable|cannot be read/i);
    expect(mail.body).toContain('Administrator');
  });
});
