// ESLint: the recommended JS and TypeScript rules on the sources (not on build output).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'scratch/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { process: 'readonly', console: 'readonly', URL: 'readonly', performance: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // the web pages' ES modules run in the browser
    files: ['cloud/web/static/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'document',
          'window',
          'localStorage',
          'sessionStorage',
          'fetch',
          'FormData',
          'Node',
          'atob',
          'TextEncoder',
          'TextDecoderStream',
          'AbortController',
          'setTimeout',
          'setInterval',
          'clearInterval',
          'clearTimeout',
          'navigator',
          'location',
          'Event',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
