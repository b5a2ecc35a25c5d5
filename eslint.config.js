// ESLint flat config (CommonJS, like the rest of the package's root files).
// TypeScript: `recommended` plus the type-aware `recommendedTypeChecked` rules, through the project
// service (tsconfig.json covers src, tests, examples and bench). Formatting is Prettier's job
// (`prettier --check .` runs after eslint in `npm run lint`), so no stylistic rules here.
const js = require('@eslint/js');
const { defineConfig, globalIgnores } = require('eslint/config');
const tseslint = require('typescript-eslint');

/** The Node globals the plain-JS files (configs, scripts) use; avoids a dependency on `globals`. */
const nodeGlobals = {
  console: 'readonly',
  process: 'readonly',
  __dirname: 'readonly',
  __filename: 'readonly',
  setTimeout: 'readonly',
  clearTimeout: 'readonly',
};

module.exports = defineConfig([
  globalIgnores(['dist/', 'build/', 'coverage/', 'traces/', 'node_modules/']),

  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },

  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        projectService: true,
        tsconfigRootDir: __dirname,
      },
    },
    rules: {
      // `x!` on indexed access is deliberate: tsconfig has noUncheckedIndexedAccess. Allow it, also
      // where flow analysis has already narrowed the element (which is what this type-aware rule flags).
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unnecessary-type-assertion': 'off',
      // Unused bindings are errors, except the conventional `_`-prefixed ones.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          args: 'after-used',
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // `import type` keeps the emitted ESM/CJS free of type-only imports (isolatedModules).
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
    },
  },

  // The library and its tests: no console output (the library returns actions, the application decides
  // what to print; a test that must print, e.g. its seed, says so with an eslint-disable comment).
  // Examples, bench and scripts may print.
  {
    files: ['src/**/*.ts', 'tests/**/*.ts'],
    rules: { 'no-console': 'error' },
  },

  // Plain JavaScript: the root config files and scripts/. CommonJS, no type information.
  {
    files: ['**/*.js', '**/*.cjs'],
    extends: [js.configs.recommended],
    languageOptions: {
      sourceType: 'commonjs',
      ecmaVersion: 2022,
      globals: nodeGlobals,
    },
  },
  {
    files: ['**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: 'module', ecmaVersion: 2022, globals: nodeGlobals },
  },
]);
