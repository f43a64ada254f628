import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    clearMocks: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start emulators and worker pools; two cores, so keep files few at a time.
    maxWorkers: 2,
  },
});
