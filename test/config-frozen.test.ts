/**
 * A loaded config is deep-frozen: serve hands one config to the scheduler, the web server and
 * the reloader at once, so no part may change what another reads (a changed config is a copy).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';

const XML = `<clients>
  <settings concurrency="5"/>
  <web port="8181" hosts="fleet.example"/>
  <client ip="127.0.0.1" username="ops" password="pw" name="one">
    <alert type="memory" limit="50%"/>
    <maintenance every="sun" from="02:00" to="04:00"/>
  </client>
</clients>`;

/** Every object reachable from `value` that is not frozen, as a property path. */
function unfrozen(value: unknown, path = 'config'): string[] {
  if (typeof value !== 'object' || value === null) return [];
  const own = Object.isFrozen(value) ? [] : [path];
  return [
    ...own,
    ...Reflect.ownKeys(value).flatMap((key) =>
      unfrozen((value as Record<PropertyKey, unknown>)[key], `${path}.${String(key)}`),
    ),
  ];
}

describe('a loaded config', () => {
  it('is frozen all the way down, hidden secrets still readable', () => {
    const config = parseConfig(XML, '/tmp/fleetstat-frozen.xml');
    expect(unfrozen(config)).toEqual([]);
    expect(config.clients[0]!.password).toBe('pw');
    expect(config.clients[0]!.maintenance?.[0]?.days).toEqual([0]);
  });

  it('refuses changes with an error instead of letting one reader change what another sees', () => {
    const config = parseConfig(XML, '/tmp/fleetstat-frozen.xml');
    expect(() => {
      config.settings.concurrency = 1;
    }).toThrow(TypeError);
    expect(() => {
      config.clients.push(config.clients[0]!);
    }).toThrow(TypeError);
    expect(() => {
      config.clients[0]!.alerts[0]!.limit = 99;
    }).toThrow(TypeError);
    expect(() => {
      config.web.hosts.push('evil.example');
    }).toThrow(TypeError);
    expect(config.settings.concurrency).toBe(5);
  });
});
