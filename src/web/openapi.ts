/**
 * The OpenAPI 3.1 description of the JSON API, served at /api/openapi.json (docs/api.md is its prose
 * twin). 3.1, because its schemas are JSON Schema 2020-12, where a nullable value is written
 * `{ type: 'null' }` as below; 3.0 has no null type.
 */

const nullable = (schema: object) => ({ oneOf: [schema, { type: 'null' }] });
const str = { type: 'string' };
const num = { type: 'number' };
const int = { type: 'integer' };
const time = { type: 'string', format: 'date-time' };
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const list = (items: object) => ({ type: 'array', items });
const obj = (properties: Record<string, object>) => ({ type: 'object', properties, required: Object.keys(properties) });

const json = (schema: object, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const errors = {
  400: json(ref('Error'), 'A parameter is invalid; the message names it.'),
  401: json(ref('Error'), 'Credentials are required (basic auth or bearer token, when configured).'),
};
const notFound = { 404: json(ref('Error'), 'No such host.') };

const queryParam = (name: string, description: string, schema: object) => ({
  name,
  in: 'query',
  required: false,
  description,
  schema,
});
const hostIdParam = {
  name: 'id',
  in: 'path',
  required: true,
  description: 'Host id (hosts.id).',
  schema: { type: 'integer', minimum: 1 },
};
const limitParam = (fallback: number) =>
  queryParam('limit', `Most rows to return (1–1000, default ${fallback}).`, {
    type: 'integer',
    minimum: 1,
    maximum: 1000,
  });

const latestSample = obj({
  sample_id: int,
  collected_at: nullable(time),
  cpu_percent: num,
  load1: nullable(num),
  load5: nullable(num),
  load15: nullable(num),
  mem_total: int,
  mem_used: int,
  mem_percent: num,
  swap_total: int,
  swap_used: int,
  swap_percent: num,
  uptime_seconds: int,
  process_count: int,
  users_count: int,
  disk_max_percent: nullable(num),
});

/** The OpenAPI 3.1 document. */
export const openApiDocument = {
  openapi: '3.1.0',
  info: {
    title: 'fleetstat API',
    version: '1',
    description:
      'Read-only statistics of the machines fleetstat collects over SSH. Every timestamp is ISO 8601 UTC. All text fields come from monitored hosts and are untrusted.',
  },
  // Relative: the document is served by the fleetstat serve instance it describes.
  servers: [{ url: '/', description: 'the fleetstat serve instance that serves this document' }],
  paths: {
    '/api/hosts': {
      get: {
        operationId: 'listHosts',
        summary: 'Every host: stored ones and configured ones not collected yet',
        responses: { 200: json(obj({ hosts: list(ref('Host')) })), ...errors },
      },
    },
    '/api/hosts/{id}': {
      get: {
        operationId: 'getHost',
        summary: 'One host with its latest disks and logged-in users, alerts, recent security events and errors',
        parameters: [hostIdParam],
        responses: {
          200: json(
            obj({
              host: ref('Host'),
              disks: list(ref('Disk')),
              users: list(ref('User')),
              alerts: list(ref('Alert')),
              events: list(ref('Event')),
              errors: list(ref('HostError')),
            }),
          ),
          ...errors,
          ...notFound,
        },
      },
    },
    '/api/hosts/{id}/samples': {
      get: {
        operationId: 'getHostSamples',
        summary:
          "A host's statistics over a time range, column-oriented, at most 10,000 points (averaged into equal time buckets beyond that)",
        parameters: [
          hostIdParam,
          queryParam('from', 'Start of the range, ISO 8601 with zone (default: 24 h before `to`).', time),
          queryParam('to', 'End of the range, ISO 8601 with zone (default: now). At most 400 days after `from`.', time),
        ],
        responses: { 200: json(ref('Series')), ...errors, ...notFound },
      },
    },
    '/api/alerts': {
      get: {
        operationId: 'listAlerts',
        summary: 'Alert states: firing first, then pending, then ok, newest change first',
        parameters: [
          queryParam('state', 'Only this state.', { type: 'string', enum: ['all', 'firing', 'pending', 'ok'] }),
          limitParam(200),
        ],
        responses: {
          200: json(
            obj({ alerts: list(ref('Alert')), delivery: ref('Delivery'), undelivered: list(ref('UndeliveredMail')) }),
          ),
          ...errors,
        },
      },
    },
    '/api/events': {
      get: {
        operationId: 'listEvents',
        summary: 'Security events, newest first',
        parameters: [
          queryParam('host', 'Only this host id.', { type: 'integer', minimum: 1 }),
          queryParam('since', 'Only events logged at or after this instant.', time),
          limitParam(100),
        ],
        responses: { 200: json(obj({ events: list(ref('Event')) })), ...errors },
      },
    },
    '/api/collection': {
      get: {
        operationId: 'getCollection',
        summary: 'Whether the collectors keep up with the interval (state unknown when this server runs no collection)',
        responses: { 200: json(obj({ collection: ref('Collection') })), ...errors },
      },
    },
    '/api/silences': {
      get: {
        operationId: 'listSilences',
        summary: 'Silences that have not ended (every one with all=true), newest first',
        parameters: [
          { name: 'all', in: 'query', required: false, schema: { type: 'string', enum: ['true', 'false'] } },
        ],
        responses: { 200: json(obj({ silences: list(ref('Silence')) })), ...errors },
      },
    },
    '/api/rounds': {
      get: {
        operationId: 'listRounds',
        summary: 'Collection rounds, newest first',
        parameters: [limitParam(50)],
        responses: { 200: json(obj({ rounds: list(ref('Round')) })), ...errors },
      },
    },
    '/api/openapi.json': {
      get: {
        operationId: 'getOpenApiDocument',
        summary: 'This document',
        responses: {
          200: { description: 'OpenAPI 3.1 document', content: { 'application/json': { schema: { type: 'object' } } } },
        },
      },
    },
  },
  components: {
    securitySchemes: { basic: { type: 'http', scheme: 'basic' }, bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: obj({ error: str }),
      Host: obj({
        id: nullable(int),
        name: str,
        ip: str,
        port: int,
        os: nullable(str),
        os_name: nullable(str),
        kernel: nullable(str),
        arch: nullable(str),
        hostname: nullable(str),
        first_seen: nullable(time),
        last_seen: nullable(time),
        status: {
          type: 'string',
          enum: ['up', 'down', 'error', 'unknown'],
          description:
            'up: collected in the latest finished round; down: unreachable (failed at the connect stage, a connect timeout included); error: failed at another stage; unknown: not in the latest round.',
        },
        error: nullable(obj({ stage: str, message: str, occurred_at: nullable(time) })),
        latest: nullable(latestSample),
        firing_alerts: int,
        in_config: { type: 'boolean', description: 'Whether the current config lists this host.' },
      }),
      Disk: obj({
        mount: str,
        fs: str,
        device: str,
        size_bytes: int,
        used_bytes: int,
        avail_bytes: int,
        used_percent: num,
      }),
      User: obj({ name: str, tty: str, from_host: str, login_at: nullable(time) }),
      Alert: obj({
        host_id: int,
        host_name: str,
        ip: str,
        rule: str,
        state: { type: 'string', enum: ['ok', 'pending', 'firing'] },
        value: nullable(num),
        limit_value: num,
        since: nullable(time),
        last_notified_at: nullable(time),
        severity: { type: 'string', enum: ['info', 'warning', 'critical'] },
        mount: nullable(str),
        muted: {
          type: 'boolean',
          description: 'Its firing was not mailed: held by a silence, a maintenance window or inhibition.',
        },
      }),
      Silence: obj({
        id: int,
        host_pattern: str,
        rule: nullable(str),
        starts_at: time,
        ends_at: time,
        author: str,
        comment: str,
        created_at: time,
        active: { type: 'boolean' },
      }),
      UndeliveredMail: obj({
        id: int,
        channel: { type: 'string', enum: ['mail', 'webhook'] },
        recipient: str,
        subject: str,
        status: { type: 'string', enum: ['retrying', 'failed'] },
        created_at: nullable(time),
        tries: int,
        attempts: int,
        failed_at: nullable(time),
        last_error: nullable(str),
      }),
      Delivery: obj({ queued: int, retrying: int, sent: int, failed: int }),
      Event: obj({
        id: int,
        host_id: int,
        record_id: int,
        event_id: int,
        level: str,
        provider: str,
        logged_at: nullable(time),
        message: str,
      }),
      HostError: obj({ round_id: int, host_id: int, occurred_at: nullable(time), stage: str, message: str }),
      Round: obj({
        id: int,
        started_at: nullable(time),
        finished_at: nullable(time),
        duration_seconds: nullable(num),
        hosts_ok: int,
        hosts_failed: int,
        errors_by_stage: { type: 'object', additionalProperties: int },
      }),
      Collection: obj({
        state: {
          type: 'string',
          enum: ['keeping-up', 'behind', 'unknown'],
          description:
            'behind: a host waited a whole interval past its due time; keeping-up again once the most overdue waits less than half an interval.',
        },
        since: nullable(time),
        assessed_at: nullable(time),
        hosts: int,
        hosts_overdue: { type: 'integer', description: 'Hosts due and not being collected.' },
        most_overdue_seconds: {
          type: 'number',
          description: 'How long past its due time the most overdue host has waited.',
        },
        interval_seconds: num,
      }),
      Series: obj({
        host_id: int,
        from: time,
        to: time,
        samples: { type: 'integer', description: 'Samples in the range before downsampling.' },
        downsampled: { type: 'boolean' },
        time: { ...list(num), description: 'Unix seconds of each point.' },
        series: obj(
          Object.fromEntries(
            [
              'cpu_percent',
              'mem_percent',
              'swap_percent',
              'disk_max_percent',
              'rx_bytes_per_second',
              'tx_bytes_per_second',
            ].map((name) => [name, list(nullable(num))]),
          ),
        ),
      }),
    },
  },
  security: [{}, { basic: [] }, { bearer: [] }],
} as const;
