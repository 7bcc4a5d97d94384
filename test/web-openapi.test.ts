/**
 * The interfaces as other programs read them: the OpenAPI document passes a real validator
 * (@seriousme/openapi-schema-validator, which checks it against the official OpenAPI 3.1 schema),
 * every response a real server gives over a database filled by real rounds matches the schema
 * the document states for it (Ajv, JSON Schema 2020-12), and /metrics passes `promtool check
 * metrics` (Debian's prometheus package).
 */
import { spawn } from 'node:child_process';
import { Validator } from '@seriousme/openapi-schema-validator';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openApiDocument } from '../src/web/openapi.js';
import { CounterRegistry } from '../src/web/metrics/counter-registry.js';
import { requireTool } from './support/requirements.js';
import { startWebFleet, type WebFleet } from './web-fixture.js';

// ajv-formats is CommonJS with a default export; under NodeNext its callable sits on .default.
const addFormats = ((addFormatsModule as { default?: unknown }).default ?? addFormatsModule) as (
  ajv: Ajv2020,
) => Ajv2020;

type Operation = { operationId?: string; responses: Record<string, { content?: Record<string, { schema: object }> }> };

const DOCUMENT_ID = 'https://fleetstat.invalid/openapi.json';

/** A validator for the body of `path`'s GET response with `status`, by the document's own schema. */
function responseValidator(ajv: Ajv2020, path: string, status: number) {
  const pointer = `#/paths/${path.replace(/~/g, '~0').replace(/\//g, '~1')}/get/responses/${status}/content/application~1json/schema`;
  const validate = ajv.getSchema(`${DOCUMENT_ID}${pointer}`);
  if (!validate) throw new Error(`no schema for GET ${path} ${status}`);
  return validate;
}

describe('the OpenAPI document', () => {
  it('passes the OpenAPI 3.1 schema validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(structuredClone(openApiDocument));
    expect(result.errors ?? [], JSON.stringify(result.errors, null, 2)).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe('3.1');
  });

  it('names every operation with a unique operationId and states its server', () => {
    const operations = Object.values(openApiDocument.paths).flatMap((item) => Object.values(item) as Operation[]);
    const ids = operations.map((operation) => operation.operationId);
    expect(ids.every((id) => typeof id === 'string' && /^[a-z][A-Za-z]+$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(openApiDocument.servers).toEqual([expect.objectContaining({ url: '/' })]);
  });
});

describe('real responses and /metrics', () => {
  let web: WebFleet;
  let base: string;
  let ajv: Ajv2020;
  const counters = new CounterRegistry();

  beforeAll(async () => {
    web = await startWebFleet(2);
    base = await web.serve({ counters, metricsOpen: true });
    ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    ajv.addSchema(structuredClone(openApiDocument), DOCUMENT_ID);
  }, 180_000);
  afterAll(async () => {
    await web?.stop();
  });

  /** Fetches `url` and checks its JSON body against the document's schema for (path, status). */
  async function check(path: string, url: string, status: number): Promise<any> {
    const response = await fetch(base + url);
    expect(response.status, url).toBe(status);
    const body = await response.json();
    const validate = responseValidator(ajv, path, status);
    expect(validate(body), `${url}: ${JSON.stringify(validate.errors)}`).toBe(true);
    return body;
  }

  it('answers every operation with a body its schema accepts', async () => {
    const hosts = (await check('/api/hosts', '/api/hosts', 200)).hosts as Array<{ id: number | null }>;
    expect(hosts.length).toBeGreaterThanOrEqual(4);
    for (const host of hosts.filter((h) => h.id !== null)) {
      await check('/api/hosts/{id}', `/api/hosts/${host.id}`, 200);
      await check('/api/hosts/{id}/samples', `/api/hosts/${host.id}/samples`, 200);
    }
    await check('/api/alerts', '/api/alerts', 200);
    await check('/api/alerts', '/api/alerts?state=firing', 200);
    await check('/api/events', '/api/events?since=2000-01-01T00:00:00Z', 200);
    await check('/api/rounds', '/api/rounds', 200);
    const served = await fetch(`${base}/api/openapi.json`);
    expect(await served.json()).toEqual(JSON.parse(JSON.stringify(openApiDocument)));
  });

  it('answers errors with the documented Error body', async () => {
    await check('/api/hosts/{id}', '/api/hosts/999999', 404);
    await check('/api/hosts/{id}', '/api/hosts/0', 400);
    await check('/api/alerts', '/api/alerts?state=bogus', 400);
    await check('/api/rounds', '/api/rounds?limit=0', 400);
  });

  it('a schema that does not fit is noticed (the check can fail)', async () => {
    const response = await fetch(`${base}/api/rounds`);
    const body = (await response.json()) as { rounds: unknown[] };
    expect(responseValidator(ajv, '/api/hosts', 200)(body)).toBe(false);
  });

  const promtool = requireTool('promtool', '/metrics is checked with promtool check metrics');
  it.skipIf(!promtool)('serves /metrics that promtool check metrics accepts', async () => {
    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('fleetstat_');
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(promtool!, ['check', 'metrics'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.on('close', (code) => resolve({ code, output }));
      child.stdin.end(text);
    });
    expect(result.output).toBe('');
    expect(result.code).toBe(0);
  });
});
