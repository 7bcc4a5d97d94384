/** The commented starter configuration `fleetstat config init` writes (format: docs/config.md). */

/** Values the starter config is written with. */
export interface StarterOptions {
  /**
   * Directory for the SQLite database, known_hosts and the spool (relative paths are relative to
   * the config file's directory); under systemd /var/lib/fleetstat, the only writable place.
   */
  stateDir: string;
}

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The starter config's text: valid as it stands (no clients yet), every section explained. */
export function starterConfig(options: StarterOptions): string {
  const inState = (name: string) =>
    escapeAttribute(options.stateDir === '.' ? name : `${options.stateDir.replace(/\/+$/, '')}/${name}`);
  return `<?xml version="1.0" encoding="UTF-8"?>
<!--
  fleetstat configuration. Every element and attribute, with defaults: docs/config.md.
  Check it with: fleetstat config check THIS_FILE
  Relative paths are relative to this file's directory; keep this file mode 0600.
-->
<clients>
  <!-- database: sqlite:PATH, postgres://user@host/db or mysql://user@host/db
       (with a password in the URL, prefer <database url-env="VAR"/>).
       known-hosts: host keys are checked against this file; add them with ssh-keyscan.
       spool-dir: where reports wait while the database is down. -->
  <settings database="sqlite:${inState('fleetstat.sqlite')}" known-hosts="${inState('known_hosts')}"
            spool-dir="${inState('spool')}" interval="60" concurrency="50" connect-timeout="10"/>

  <!-- Mail for alerts. Without <smtp> alerts are stored but not mailed.
  <smtp host="127.0.0.1" port="25" from="fleetstat@example.org"/>
  -->

  <!-- The dashboard, JSON API and /metrics of fleetstat serve. Beyond loopback it needs credentials.
  <web listen="127.0.0.1" port="8080" user="admin" password-file="web.pass"/>
  -->

  <!-- What every client inherits unless a group or the client says otherwise (docs/config.md,
       "Groups and defaults"); keep passwords in files (mode 0600), never inline.
  <defaults username="ops" password-file="secrets/ssh.pw" mail="ops@example.org">
    <alert type="unreachable"/>
    <alert type="disk" limit="90%"/>
  </defaults>
  <group name="web">
    <alert type="cpu" limit="85%" for="5m"/>
    <client ip="192.0.2.20-192.0.2.29" name="web-{ip}"/>
    <client hosts-file="hosts/web.txt"/>
  </group>
  <include path="conf.d/*.xml"/>
  -->

  <!-- One <client> per machine. Authenticate with password-file, key or agent="true".
       Record the hosts' keys after comparing fingerprints: fleetstat hosts scan -c THIS_FILE
  <client ip="192.0.2.10" port="22" username="ops" key="keys/id_ed25519" name="web1" mail="ops@example.org">
    <alert type="memory" limit="90%"/>
    <alert type="cpu" limit="80%" for="5m"/>
    <alert type="disk" limit="90%"/>
    <alert type="unreachable"/>
  </client>
  -->
</clients>
`;
}
