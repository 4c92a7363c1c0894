import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';

export default tseslint.config(
  { ignores: ['dist', 'node_modules', 'test-results', 'playwright-report', '.scratch'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks },
    rules: {
      ...reactHooks.configs.recommended.rules,
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // The engine must run unchanged in a browser worker and in Node: no host APIs.
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: ['node:*', 'fs', 'path', 'react', 'react-dom', '../ui/*', '../cli/*', '../worker/*'] }],
      'no-restricted-globals': ['error', 'window', 'document', 'process', 'localStorage'],
    },
  },
  {
    // The page never loads tfjs: the engine worker owns it and every tensor (architecture.md),
    // which also keeps the page's bundle small. Tests may run the engine in Node.
    files: ['src/ui/**/*.{ts,tsx}', 'src/main.tsx'],
    ignores: ['**/*.test.ts', '**/*.test.tsx'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['@tensorflow/*'], message: 'tfjs lives in the engine worker (src/worker); talk to it through EngineClient.', allowTypeImports: true },
            {
              group: ['**/core/experiment*', '**/core/train*', '**/core/mlp*', '**/core/score*'],
              message: 'these engine modules load tfjs; run them in the worker.',
              allowTypeImports: true,
            },
          ],
        },
      ],
    },
  },
  { files: ['src/cli/*.mjs'], languageOptions: { globals: globals.node } },
);
