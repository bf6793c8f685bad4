// ESLint (flat config) with typescript-eslint. The one architectural rule lives here: src/core is
// pure domain code, so it may not import adapters, plugins, the store, the app layer, HTTP, the CLI,
// chat SDKs, or any Node.js module that does I/O.
const tseslint = require('typescript-eslint');

const IO_MODULES = ['fs', 'net', 'http', 'https', 'http2', 'child_process', 'dgram', 'dns', 'tls', 'worker_threads', 'readline', 'cluster', 'os', 'process']
  .flatMap((m) => [m, `node:${m}`, `${m}/*`, `node:${m}/*`]);

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'data/**', 'test-artifacts/**', 'bench/results*'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        paths: IO_MODULES.filter((m) => !m.includes('*')).map((name) => ({ name, message: 'src/core is pure: no I/O. Do the I/O in src/app and pass values in.' })),
        patterns: [
          { group: ['**/adapters/**', '**/plugins/**'], message: 'src/core knows no platform and no plugin: depend on a port in src/ports instead.' },
          { group: ['**/store/**', '**/app/**', '**/http/**', '**/cli/**', '**/runtime/**', '**/config/**'], message: 'src/core is the innermost layer: nothing outside it may be imported here.' },
          { group: ['sqlite3', 'pg', 'discord.js', 'botbuilder', 'botbuilder-*', 'inversify', 'ws', 'yaml', 'ajv'], message: 'src/core is pure domain code: no infrastructure or SDK imports.' },
        ],
      }],
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'src/core has no timers: schedule through the app\'s durable timers.' },
        { name: 'setInterval', message: 'src/core has no timers.' },
        { name: 'fetch', message: 'src/core does no I/O.' },
        { name: 'process', message: 'src/core reads no environment: take values as arguments.' }],
      'no-restricted-syntax': ['error',
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'src/core takes `now` as an argument (see STYLE.md).' },
        { selector: "CallExpression[callee.object.name='DateTime'][callee.property.name=/^(now|local|utc)$/][arguments.length=0]", message: 'src/core takes `now` as an argument; DateTime.now()/local()/utc() read the clock.' },
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'src/core takes `now` as an argument.' }],
    },
  },
  {
    files: ['**/*.js'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/cli/**/*.ts', 'bench/**/*.ts', 'test/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
