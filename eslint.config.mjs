// Lint: typescript-eslint's recommended rules with type information, no floating promises (a
// forgotten `await` on an activity, a client call or a workflow API is a bug), and the rule the
// Temporal samples use to keep workflow code deterministic: workflow files and the shared contract
// import no Node built-ins, no driver or SDK client/worker/activity packages, and — except for types —
// nothing outside `workflows/` and `src/contract/`. Formatting is Prettier's (prettier.config.mjs).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.flatMap((name) => [name, `node:${name}`]);
const notInWorkflows = {
  paths: nodeBuiltins.map((name) => ({
    name,
    message: 'Workflow code is replayed in a sandbox: no Node built-ins.',
    allowTypeImports: true,
  })),
  patterns: [
    {
      group: [
        'mongodb',
        '@temporalio/client',
        '@temporalio/worker',
        '@temporalio/activity',
        '@temporalio/testing',
        'fastify',
        '@larksuiteoapi/*',
      ],
      message: 'Workflow code runs no I/O: side effects belong in activities/.',
      allowTypeImports: true,
    },
  ],
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.tools/',
      '.data/',
      '.bench-build/',
      'coverage/',
      'activities/codex/protocol/',
      'test/replay/histories/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
      'object-shorthand': ['error', 'always'],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          ...notInWorkflows,
          patterns: [
            ...notInWorkflows.patterns,
            {
              regex: '^\\.\\./(?!src/contract/[^/]+$)',
              message: 'Workflow code imports only workflows/ and src/contract/ (types aside).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/contract/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          ...notInWorkflows,
          patterns: [
            ...notInWorkflows.patterns,
            {
              regex: '^\\.\\./',
              message: 'The contract imports nothing but itself (types aside).',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  prettier,
);
