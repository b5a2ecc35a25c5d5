/** Jest runs the TypeScript tests through ts-jest in CommonJS, transpile-only (isolatedModules);
 * type errors are caught by `npm run typecheck` (tsc --noEmit), a separate CI step. */
module.exports = {
  preset: 'ts-jest',
  testEnvironment: 'node',
  roots: ['<rootDir>/tests'],
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
};
