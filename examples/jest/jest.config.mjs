// Native ES modules, no transform: the suite is plain JavaScript.
export default { testEnvironment: 'node', transform: {}, testMatch: ['**/*.test.mjs'], testTimeout: 60_000 };
