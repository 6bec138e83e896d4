/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  resolver: '<rootDir>/jest.resolver.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  // Sources may import siblings as `./x.js` (NodeNext style); map them to the .ts file.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  // ESM-only packages: middy 7, and puppeteer-core 25 with its own ESM dependencies.
  transformIgnorePatterns: ['/node_modules/(?!(@middy|puppeteer-core|@puppeteer|chromium-bidi)/)'],
  testTimeout: 20000,
};
