/**
 * Seeds for randomized tests. Every randomized test takes its seed from here and prints it, so a
 * failure can be replayed: `FC_SEED=<seed> npx jest <file>` (fast-check also prints the failing
 * `path`; set FC_PATH=<path> to replay only the shrunk counterexample).
 */
import type fc from 'fast-check';

const fromEnv = process.env.FC_SEED;
/** The run's base seed: FC_SEED when set, else derived from the clock (printed). */
export const BASE_SEED = fromEnv !== undefined && fromEnv !== '' ? Number(fromEnv) : Date.now() % 2 ** 31;

/**
 * fast-check parameters for the property `name`: a seed (printed with the name) and, when FC_PATH is
 * set, the path of a counterexample to replay. `numRuns` defaults to fast-check's 100.
 */
export function fcParams<T>(name: string, numRuns?: number): fc.Parameters<T> {
  process.stdout.write(`[seed] ${name}: FC_SEED=${BASE_SEED}\n`);
  const params: fc.Parameters<T> = { seed: BASE_SEED };
  if (numRuns !== undefined) params.numRuns = numRuns;
  if (process.env.FC_PATH) {
    params.path = process.env.FC_PATH;
    params.endOnFailure = true;
  }
  return params;
}
