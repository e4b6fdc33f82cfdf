import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'tests/**/*.test.ts'],
    // Integration tests start real Redis, mediasoup workers and Chromium: give them room, run files one at a time
    // (the machine has 2 cores) and never let a hung child keep the run alive.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    teardownTimeout: 10_000,
    reporters: ['default'],
  },
});
