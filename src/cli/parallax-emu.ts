#!/usr/bin/env node
// The `parallax-emu` command. Its code is emu-main.ts and the ~100 modules it imports; loaded one
// by one they cost a start (from a snapshot above all) several hundred ms on a busy host, so
// `npm run build` also bundles them (tools/bundle.mjs: dist/src/cli/bundle/emu-main.mjs,
// with the orchestrator CLI, hub, gdb stub and QMP in chunks loaded only when used). The bundle
// is used only when it is not older than the tsc output it was made from (a later plain `tsc`
// makes it stale, and the modules run); PARALLAX_UNBUNDLED=1 loads the modules (debugger,
// profiler). Exit statuses: emu-main.ts.

import { statSync, writeSync } from 'node:fs';
import { startStandbyCoreWorker } from '../machine/standby-worker.js';
import { coreWorkerPath } from '../machine/worker-path.js';

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

// A machine's first core worker is started now, before the main thread loads its own code
// (src/machine/standby-worker.ts); not for the orchestrator, the hub or help and version,
// nor with PARALLAX_STANDBY_WORKER=0 (to measure without it).
const args = process.argv.slice(2);
if (process.env.PARALLAX_STANDBY_WORKER !== '0' && args[0] !== 'orch' && args[0] !== 'hub' &&
  !args.some((a) => /^(-h|-help|--help|-version|--version)$/.test(a))) {
  try {
    startStandbyCoreWorker(coreWorkerPath());
  } catch {
    // not built: the machine says so when it starts its workers
  }
}

const useBundle = bundleIsFresh();
// PARALLAX_START_TRACE=1 (src/machine/start-trace.ts) also says which code runs
if (process.env.PARALLAX_START_TRACE === '1') writeSync(2, `parallax-emu: start +${performance.now().toFixed(1)} ms: loading the ${useBundle ? 'bundle' : 'modules'}\n`);
await import(useBundle ? bundle.href : modules.href);
