/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  resolver: '<rootDir>/jest.resolver.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/support/jest-setup.ts'],
  transform: { '^.+\\.(t|j)s$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  testTimeout: 20000,
};
