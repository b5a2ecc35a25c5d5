/** The one `deepFreeze` of the tests. Not a test file. */

const FROZEN = new WeakSet<object>();

/**
 * Freeze `x` and everything reachable from it (every own key, symbols and non-enumerable ones
 * included), so that any later write throws (test modules are strict). Objects are remembered once
 * deep-frozen, so freezing states that share most of their structure stays cheap.
 */
export function deepFreeze<T>(x: T): T {
  if (typeof x !== 'object' || x === null || FROZEN.has(x)) return x;
  FROZEN.add(x);
  for (const key of Reflect.ownKeys(x)) deepFreeze((x as Record<PropertyKey, unknown>)[key]);
  Object.freeze(x);
  return x;
}
