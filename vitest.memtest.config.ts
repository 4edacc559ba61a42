import { defineConfig } from 'vitest/config';

// memtest86+ pass 1 on QEMU and parallax-emu (test/linux/memtest.slow.ts): minutes per run, so
// it is kept out of `npm test` and run on its own with `npm run test:memtest`.
export default defineConfig({
  test: {
    include: ['test/linux/memtest.slow.ts'],
    testTimeout: 120_000,
    hookTimeout: 300_000,
    pool: 'forks',
  },
});
