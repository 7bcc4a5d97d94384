/**
 * `fleetstat config init [FILE]`: writes a commented starter config (mode 0600) that reads the
 * SSH password from a file, never inline. Refuses to overwrite an existing file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { errorCode } from '../config/secrets.js';
import { EXIT } from './exit-codes.js';

/** The starter text; every element it shows is documented in docs/config.md. */
export const STARTER_CONFIG = `<?xml version="1.0" encoding="UTF-8"?>
<!-- fleetstat configuration. Reference: docs/config.md. Check it with: fleetstat config check FILE
     and see what each host ends up with: fleetstat config show -c FILE -->
<clients>
  <!-- Server settings. Relative paths are relative to this file's directory. -->
  <settings database="sqlite:fleetstat.sqlite" known-hosts="known_hosts" concurrency="50" interval="60"/>

  <!-- Mail for alerts. Keep the SMTP password out of this file (password-file or password-env). -->
  <!-- <smtp host="mail.example.com" port="587" from="fleetstat@example.com" user="fleetstat" password-file="secrets/smtp.pw"/> -->

  <!-- What every client inherits unless a group or the client says otherwise.
       The SSH password is read from a file (mode 0600), never written here. -->
  <defaults username="fleetstat" password-file="secrets/ssh.pw" mail="ops@example.com" host-key="strict">
    <alert type="unreachable"/>
    <alert type="disk" limit="90%"/>
    <alert type="memory" limit="90%" for="10m"/>
  </defaults>

  <!-- A group: its clients share its settings and rules; a client may override any of them,
       replace a rule (same type) or drop one: <alert type="disk" drop="true"/>. -->
  <group name="example">
    <alert type="cpu" limit="85%" for="5m"/>
    <!-- One machine, several, a range or a CIDR block: -->
    <client ip="192.0.2.10" name="example-1"/>
    <!-- <client ip="192.0.2.20-192.0.2.29" name="web-{ip}"/> -->
    <!-- <client hosts-file="hosts/web.txt"/>   one address or name per line, # comments -->
  </group>

  <!-- More files, read in sorted order: -->
  <!-- <include path="conf.d/*.xml"/> -->
</clients>
`;

/** Writes the starter; resolves with ok, or usage when the file exists or cannot be written. */
export async function configInitCommand(file: string): Promise<number> {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, STARTER_CONFIG, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    const code = errorCode(err);
    process.stderr.write(code === 'EEXIST' ? `${file} exists; not overwritten\n` : `cannot write ${file} (${code})\n`);
    return EXIT.usage;
  }
  const secret = join(dirname(file), 'secrets', 'ssh.pw');
  process.stdout.write([
    `wrote ${file}`,
    'next:',
    `  1. put the SSH password in ${secret}: install -m 600 /dev/null ${secret} && edit it (or use key="…" instead)`,
    `  2. replace the example client, then: fleetstat config check ${file}`,
    `  3. record the hosts' keys after comparing fingerprints: fleetstat hosts scan -c ${file}`,
    '',
  ].join('\n'));
  return EXIT.ok;
}
