#!/usr/bin/env node
// The `parallax-emu` command. Its code is emu-main.ts and the ~100 modules it imports; loaded one
// by one they cost a start (from a snapshot above all) several hundred ms on a busy host, so
// `npm run build` also bundles them (tools/bundle.mjs: dist/src/cli/bundle/emu-main.mjs,
// with the orchestrator CLI, hub, gdb stub and QMP in chunks loaded only when used). The bundle
// is used only when it is not older than the tsc output it was made from (a later plain `tsc`
// makes it stale, and the modules run); PARALLAX_UNBUNDLED=1 loads the modules (debugger,
// profiler). Exit statuses: emu-main.ts.

import { statSync, writeSync } from 'node:fs';

const modules = new URL('./emu-main.js', import.meta.url);
const bundle = new URL('./bundle/emu-main.mjs', import.meta.url);

function bundleIsFresh(): boolean {
  if (process.env.PARALLAX_UNBUNDLED === '1') return false;
  try {
    return statSync(bundle).mtimeMs >= statSync(modules).mtimeMs;
  } catch {
    return false;
  }
}

const useBundle = bundleIsFresh();
// PARALLAX_START_TRACE=1 (src/machine/start-trace.ts) also says which code runs
if (process.env.PARALLAX_START_TRACE === '1') writeSync(2, `parallax-emu: start +${performance.now().toFixed(1)} ms: loading the ${useBundle ? 'bundle' : 'modules'}\n`);
await import(useBundle ? bundle.href : modules.href);
