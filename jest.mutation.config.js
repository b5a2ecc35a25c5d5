/**
 * The tests Stryker runs against each mutant of the core (`npm run mutation`): the core's own
 * specifications that run in seconds — the scenario files, the unit tests, the membership rules —
 * without the property tests, the simulator and the suites that start processes or browsers (each
 * mutant would take minutes). Stryker runs only the tests that cover each mutant.
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/tests/scenarios.test.ts',
    '<rootDir>/tests/unit/**/*.test.ts',
    '<rootDir>/tests/membership/config.test.ts',
    '<rootDir>/tests/membership/merge.test.ts',
  ],
};
