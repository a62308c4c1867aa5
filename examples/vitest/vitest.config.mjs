import { defineConfig } from 'vitest/config';

// Starting a cluster takes about a second on a busy CI machine; the hooks get more than the 10 s default to spare.
export default defineConfig({ test: { hookTimeout: 60_000, testTimeout: 60_000, include: ['*.test.mjs'] } });
