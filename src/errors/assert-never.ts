/**
 * The `default` branch of an exhaustive switch over a union: the compiler rejects the call when
 * a member is left unhandled, and a value that slips past the types at run time is loud.
 */
export function assertNever(value: never, what: string): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}
