// ESLint flat config. TypeScript files get the type-aware rules of typescript-eslint (they read
// types through the TypeScript 6 API: see the `typescript` alias in package.json); the few plain
// JavaScript files (a build script, the dashboard's browser asset, this file) get ESLint's own
// recommended set. Formatting is Prettier's job, so no stylistic rules here.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['dist/', 'coverage/', 'reports/', 'test/fixtures/']),
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Part of recommended-type-checked; named here because CI relies on them (issue #15).
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      // Outcomes are unions: a switch over one must name every member (or say `default`).
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // `_`-prefixed names are deliberately unused (a parameter kept for a signature).
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      // `async` without `await` is deliberate here: Fastify handlers return their reply from an
      // async function, and interface methods that return a Promise must reject, not throw.
      '@typescript-eslint/require-await': 'off',
      // The sanitisers and their tests match control characters on purpose (that is their job).
      'no-control-regex': 'off',
    },
  },
  {
    // Kysely's documented idiom: migrations (and the table-by-table copier, which copies whatever
    // tables a migrated database has) use Kysely<any>, since they must not depend on the current
    // schema type.
    files: ['src/store/migrations/**/*.ts', 'src/store/copy/**/*.ts', 'bench/db-copy-year.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests read JSON replies (API bodies, reports, log lines) and assert on their shape: typing
    // each reply would restate the schema the test checks. They also feed ill-typed input on purpose.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: globals.node },
  },
  {
    // Runs in the browser next to uPlot (loaded by its own <script> tag).
    files: ['src/web/assets/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, uPlot: 'readonly' } },
  },
);
