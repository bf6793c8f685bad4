/** Jest runs TypeScript through ts-jest in transpile-only mode (isolatedModules in tsconfig):
 * type errors are caught once by `npm run typecheck`, not per test file. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  setupFiles: ['reflect-metadata'],
  testTimeout: 30000,
};
