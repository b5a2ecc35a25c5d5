/** Jest runs the TypeScript tests through ts-jest in CommonJS, transpile-only (isolatedModules);
 * type errors are caught by `npm run typecheck` (tsc --noEmit), a separate CI step. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  // Property tests run hundreds of generated cluster histories; on a loaded 2-core CI box one test can
  // take well over Jest's default 5 s. A hung test still fails, after a minute.
  testTimeout: 60_000,
};
