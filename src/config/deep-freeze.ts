/** Freezing a loaded config, so no part of the program can change what another part reads. */

/**
 * Freezes `value` and everything reachable from its own properties (hidden ones included: the
 * secrets are non-enumerable), and returns it. Code that needs a changed config makes a copy.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  for (const key of Reflect.ownKeys(value)) deepFreeze((value as Record<PropertyKey, unknown>)[key]);
  return value;
}
