/**
 * `fleetstat config show [HOST…]`: each client's effective settings and rules after groups,
 * defaults and includes, with the file:line each value came from. Secrets are redacted.
 */
import { explainClient, formatExplainedClient } from '../config/explain-client.js';
import { EXIT } from './exit-codes.js';
import { loadConfigOrFail, runCommand, chooseClients } from './command-context.js';

export interface ConfigShowOptions {
  config: string;
  /** Client names or addresses; none means every client. */
  hosts: string[];
  json?: boolean;
}

/** Prints the clients; resolves with ok, usage (unknown host) or configInvalid. */
export function configShowCommand(options: ConfigShowOptions): Promise<number> {
  return runCommand(async () => {
    const config = await loadConfigOrFail(options.config);
    const clients = chooseClients(config, options.hosts, options.config);
    const explained = clients.map(explainClient);
    if (options.json) process.stdout.write(`${JSON.stringify(explained, null, 2)}\n`);
    else process.stdout.write(`${explained.map(formatExplainedClient).join('\n\n')}\n`);
    return EXIT.ok;
  });
}
