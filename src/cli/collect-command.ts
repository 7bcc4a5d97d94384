/** `fleetstat collect`: one round, a summary, mail delivery, and an exit code that means something. */
import { collectRound, type RoundSummary } from '../collect/round.js';
import { terminalProgress } from '../collect/progress.js';
import { outcomeFailure } from '../collect/host-outcome.js';
import { deliverQueuedMail, type MailTotals } from './deliver-mail.js';
import { deliverQueuedWebhooks } from './deliver-webhooks.js';
import { EXIT } from './exit-codes.js';
import { loadConfigOrFail, openMigratedStore, runCommand } from './command-context.js';

export interface CollectOptions {
  config: string;
  db?: string;
  json?: boolean;
  quiet?: boolean;
}

/** Runs the command; resolves with the process exit code. */
export function collectCommand(options: CollectOptions): Promise<number> {
  return runCommand(async () => {
    const config = await loadConfigOrFail(options.config);
    const store = await openMigratedStore(options.db ?? config.settings.databaseUrl);
    try {
      const progress = options.quiet ? undefined : terminalProgress();
      let summary: RoundSummary;
      try {
        summary = await collectRound(config, store, { onEvent: (event) => progress?.onEvent(event) });
      } finally {
        progress?.stop();
      }
      const mail = await deliverQueuedMail(store, config.smtp);
      const webhooks = await deliverQueuedWebhooks(store, config);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ ...summaryJson(summary, mail), webhooks }, null, 2)}\n`);
      } else if (!options.quiet) {
        process.stderr.write(summaryText(summary, mail));
        if (webhooks.sent + webhooks.deferred + webhooks.failed > 0) {
          process.stderr.write(
            `webhooks: ${webhooks.sent} sent, ${webhooks.deferred} deferred, ${webhooks.failed} failed${webhooks.lastError ? ` (last error: ${webhooks.lastError})` : ''}\n`,
          );
        }
      }
      if (summary.hostsFailed === 0) return EXIT.ok;
      return summary.hostsOk === 0 ? EXIT.allHostsFailed : EXIT.hostsFailed;
    } finally {
      await store.close();
    }
  });
}

function summaryJson(summary: RoundSummary, mail: MailTotals) {
  return {
    round: summary.roundId,
    started_at: summary.startedAt.toISOString(),
    seconds: (summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000,
    hosts_ok: summary.hostsOk,
    hosts_failed: summary.hostsFailed,
    failures: summary.outcomes.flatMap((o) => {
      const failure = outcomeFailure(o);
      return failure ? [{ host: o.client.name, ip: o.client.ip, port: o.client.port, ...failure }] : [];
    }),
    spooled: summary.spooled,
    spool_imported: summary.spoolImported,
    grouped_mails: summary.groupedMails,
    alert_notes: summary.alertNotes,
    problems: summary.problems.map((p) => p.message),
    mail,
  };
}

function summaryText(summary: RoundSummary, mail: MailTotals): string {
  const seconds = ((summary.finishedAt.getTime() - summary.startedAt.getTime()) / 1000).toFixed(1);
  const lines = [`round ${summary.roundId}: ${summary.hostsOk} ok, ${summary.hostsFailed} failed in ${seconds}s`];
  for (const o of summary.outcomes) {
    const failure = outcomeFailure(o);
    if (failure)
      lines.push(
        `  FAILED ${o.client.name} (${o.client.ip}:${o.client.port}) [${failure.stage ?? 'not started'}] ${failure.message}`,
      );
  }
  if (summary.spooled > 0)
    lines.push(`  ${summary.spooled} report(s) kept in the spool (database failed); the next round imports them`);
  if (summary.spoolImported > 0)
    lines.push(`  imported ${summary.spoolImported} spooled report(s) from earlier rounds`);
  for (const path of summary.spoolRejected) lines.push(`  spool file ${path} is unreadable or invalid; left in place`);
  for (const note of summary.alertNotes) lines.push(`  alerts: ${note}`);
  for (const problem of summary.problems) lines.push(`  problem: ${problem.message}`);
  const grouped =
    summary.groupedMails > 0 ? ` (${summary.groupedMails} grouped mail${summary.groupedMails === 1 ? '' : 's'})` : '';
  lines.push(
    `mail: ${summary.mailsQueued} notices queued this round${grouped}, ${mail.sent} sent, ${mail.deferred} deferred, ${mail.failed} failed${mail.lastError ? ` (last error: ${mail.lastError})` : ''}${mail.skipped ? ' (no <smtp> configured: mails stay in the outbox)' : ''}`,
  );
  return `${lines.join('\n')}\n`;
}
