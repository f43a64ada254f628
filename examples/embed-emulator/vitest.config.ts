import { defineConfig } from 'vitest/config';

export default defineConfig({
  // Keep vitest's cache with the repository's, not in a node_modules/ beside the example.
  cacheDir: new URL('../../node_modules/.vite/embed-emulator', import.meta.url).pathname,
  test: {
    include: ['**/*.test.ts'],
    root: import.meta.dirname,
  },
});
