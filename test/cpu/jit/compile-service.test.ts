// Tier 3's compile service (src/machine/compile-service.ts with its worker, and the cores'
// clients): two cores over one guest memory run the same code; the compile worker translates it
// once and the second core instantiates the module made for the first. A write by one core to
// that code drops the translation on both: both run the new code (its new module), never the
// old one. The clients are deterministic (as under -icount): each block switches to its
// translation at the run that asked, so the counts below do not depend on host timing.
// Cores hosted by one thread share translations before asking (thread-translations.ts): the
// service test empties that thread cache between the cores, as if they ran in two workers.

import { MessageChannel } from 'node:worker_threads';
import { afterAll, describe, expect, test } from 'vitest';
import { createSharedMemory } from '../../../src/abi/shared-memory.js';
import { createControlBuffer } from '../../../src/abi/control-block.js';
import { ramLayout } from '../../../src/abi/memory-map.js';
import { ASYNC_COMPILE, COMPILE_THRESHOLD, JIT_TIER, holdTranslationsAfterRestore } from '../../../src/cpu/block-compiler.js';
import { Cpu, RUN_FAULT } from '../../../src/cpu/cpu.js';
import { CompileClient, installCompileClient } from '../../../src/cpu/wasm/compile-client.js';
import { coreWasmStats } from '../../../src/cpu/wasm/wasm-tier.js';
import { clearThreadTranslations, threadTranslationStats } from '../../../src/cpu/wasm/thread-translations.js';
import { threadBlockStats } from '../../../src/cpu/thread-blocks.js';
import { CompileService } from '../../../src/machine/compile-service.js';
import { UD } from '../../../src/cpu/regs.js';
import { makeFlatCpu } from '../flat-core.js';
import { asm } from '../integer/core.js';

const RAM = 1 << 20, CODE = 0x10000, STACK_TOP = 0x70000;

/** GNU as output for 64-bit `source`, ending in UD2 (the tests' end marker) */
const asm64 = (source: string): number[] => asm(64, `${source}\nud2`);

/** two 64-bit cores over one memory */
function twoCores(): Cpu[] {
  const shared = createSharedMemory(RAM, ramLayout(RAM), createControlBuffer(2, RAM));
  return [0, 1].map((core) => makeFlatCpu(64, RAM, { shared, core }));
}

/** run from CODE until the ud2 at the end; returns RAX's low half */
function runToEnd(c: Cpu): number {
  c.rip = CODE;
  c.lo[4] = STACK_TOP; c.hi[4] = 0;
  c.lo[0] = 0; c.hi[0] = 0;
  let r;
  do r = c.run(1_000_000); while (r !== RUN_FAULT);
  expect(c.faultVector).toBe(UD);
  return c.lo[0] >>> 0;
}

const LOOP = 'mov ecx, 2000\nxor eax, eax\nagain: add rax, 3\nadd rax, rcx\ndec ecx\njnz again';
const sum = (step: number): number => (2000 * step + 2000 * 2001 / 2) >>> 0;

/** guest address of the immediate of LOOP's `add rax, 3` (48 83 c0 03) in `code` at CODE */
function immediateOf3(code: number[]): number {
  const at = code.findIndex((b, i) => b === 0x48 && code[i + 1] === 0x83 && code[i + 2] === 0xc0 && code[i + 3] === 3);
  expect(at).toBeGreaterThan(0);
  return CODE + at + 3;
}

describe('compile service: one translation for every core', () => {
  const services: CompileService[] = [];
  afterAll(() => { for (const s of services) s.stop(); });

  /**
   * Two cores over one memory, each with a deterministic client of one new compile service
   * (stopped after these tests), LOOP's bytes at CODE; `body` runs, then the clients are removed.
   */
  function withServedCores(body: (cores: Cpu[], svc: CompileService, code: number[]) => void): void {
    const cores = twoCores();
    const svc = new CompileService(2);
    services.push(svc);
    svc.start();
    for (const c of cores) {
      const link = svc.linkFor(c.coreIndex);
      installCompileClient(c.coreIndex, new CompileClient(link.port, link.sab, link.slot, true));
    }
    try {
      const code = asm64(LOOP);
      cores[0].ram.set(code, CODE);
      body(cores, svc, code);
    } finally {
      for (const c of cores) installCompileClient(c.coreIndex, null);
    }
  }

  test('two cores running the same code translate it once; a write by one drops it on both', () => {
    // the service is tier 3's default path for warm blocks (not with PARALLAX_JIT_THRESHOLD=0 or tier < 3)
    expect(JIT_TIER).toBeGreaterThanOrEqual(3);
    expect(COMPILE_THRESHOLD).toBeGreaterThan(0);
    expect(ASYNC_COMPILE).toBe(true);
    withServedCores((cores, svc, code) => {
      expect(runToEnd(cores[0])).toBe(sum(3));
      const first = svc.counters();
      expect(first.translated).toBeGreaterThanOrEqual(1); // the loop (and whatever else got hot)
      expect(first.shared).toBe(0);
      clearThreadTranslations(); // core 1 as if in another worker
      expect(runToEnd(cores[1])).toBe(sum(3));
      const second = svc.counters();
      expect(second.translated).toBe(first.translated); // nothing translated again for core 1
      expect(second.shared).toBe(first.requests); // every request of core 1 was answered from core 0's
      for (const c of cores) expect(coreWasmStats(c)[0]).toBe(first.translated); // each core instantiated them

      // core 0 rewrites the immediate of `add rax, 3` (a guest write: code tracking sees it)
      cores[0].writeMem(1, immediateOf3(code), 7, 0);
      expect(runToEnd(cores[1])).toBe(sum(7)); // core 1 first: its old instance must be gone
      const third = svc.counters();
      expect(third.translated).toBeGreaterThan(second.translated); // the new code is a new translation
      clearThreadTranslations();
      expect(runToEnd(cores[0])).toBe(sum(7));
      const fourth = svc.counters();
      expect(fourth.translated).toBe(third.translated); // core 0 shares core 1's
      expect(fourth.shared).toBeGreaterThan(third.shared);
    });
  });

  test('cores of one thread ask once: the others take its translations; a code write still drops them on both', () => {
    withServedCores((cores, svc, code) => {
      clearThreadTranslations();
      expect(runToEnd(cores[0])).toBe(sum(3));
      const first = svc.counters();
      const blocksBefore = threadBlockStats.hits;
      expect(first.requests).toBeGreaterThanOrEqual(1);
      expect(runToEnd(cores[1])).toBe(sum(3));
      expect(svc.counters().requests).toBe(first.requests); // core 1 asked nothing
      expect(threadBlockStats.hits).toBeGreaterThan(blocksBefore); // and decoded nothing core 0 had (thread-blocks.ts)
      expect(threadTranslationStats.hits).toBe(first.requests); // it took every one of core 0's
      for (const c of cores) expect(coreWasmStats(c)[0]).toBe(first.translated); // each has its own instances

      cores[1].writeMem(1, immediateOf3(code), 5, 0);
      expect(runToEnd(cores[0])).toBe(sum(5)); // new bytes, new key: never the old module
      expect(svc.counters().requests).toBeGreaterThan(first.requests);
      expect(runToEnd(cores[1])).toBe(sum(5));
    });
  });

  test('a core whose compile worker does not answer translates on its own', () => {
    const [core] = twoCores();
    const ch = new MessageChannel(); // nobody listens at the other end
    const sab = new SharedArrayBuffer(64);
    const client = new CompileClient(ch.port1, sab, core.coreIndex, true);
    client.waitLimitMs = 50;
    installCompileClient(core.coreIndex, client);
    try {
      core.ram.set(asm64(LOOP), CODE);
      expect(runToEnd(core)).toBe(sum(3));
      expect(coreWasmStats(core)[0]).toBeGreaterThanOrEqual(1); // translated here after the wait
    } finally {
      installCompileClient(core.coreIndex, null);
      ch.port1.close();
    }
  });
});

describe('compile worker started late', () => {
  test('what the cores asked before the worker was spawned is answered once it is', async () => {
    clearThreadTranslations(); // nothing from the tests above: this core must ask
    const [core] = twoCores();
    const svc = new CompileService(2); // the machine starts it once every core worker is built
    const link = svc.linkFor(core.coreIndex);
    const client = new CompileClient(link.port, link.sab, link.slot, false);
    installCompileClient(core.coreIndex, client);
    try {
      core.ram.set(asm64(LOOP), CODE);
      expect(runToEnd(core)).toBe(sum(3));
      expect(client.pending).toBeGreaterThanOrEqual(1); // asked, queued in its port
      expect(svc.counters().requests).toBe(0); // nobody has read them yet
      svc.start();
      for (let i = 0; i < 200 && client.pending > 0; i++) {
        await new Promise((r) => setTimeout(r, 10));
        client.poll();
      }
      expect(client.pending).toBe(0);
      expect(svc.counters().requests).toBeGreaterThanOrEqual(1);
      expect(svc.counters().translated).toBeGreaterThanOrEqual(1);
      expect(runToEnd(core)).toBe(sum(3));
    } finally {
      installCompileClient(core.coreIndex, null);
      svc.stop();
    }
  });
});

describe('tier 3 held after a restore', () => {
  test('a block past the threshold keeps its routines during the hold, and is translated after it', async () => {
    const [core] = twoCores(); // no compile client: the core translates on its own thread
    core.ram.set(asm64(LOOP), CODE);
    holdTranslationsAfterRestore(); // PARALLAX_JIT_RESTORE_HOLD_MS, 400 ms by default
    const t0 = performance.now();
    expect(runToEnd(core)).toBe(sum(3)); // 2000 runs of the loop's block: far past the threshold
    expect(performance.now() - t0).toBeLessThan(400); // (still inside the hold)
    expect(coreWasmStats(core)[0]).toBe(0);
    await new Promise((r) => setTimeout(r, 450));
    expect(runToEnd(core)).toBe(sum(3));
    expect(coreWasmStats(core)[0]).toBeGreaterThanOrEqual(1);
  });
});

describe('compile client at a start', () => {
  test('a full queue defers (asks again later) in the start window; never under -icount', () => {
    // nobody answers on this port: the requests stay pending
    const { port1, port2 } = new MessageChannel();
    try {
      const sab = new SharedArrayBuffer(64);
      const free = new CompileClient(port1, sab, 0, false);
      free.startDeferMs = 60_000;
      expect(free.deferring).toBe(false); // nothing pending: the request is posted
      for (let k = 0; k < 4; k++) free.request([], [], 2, 1, () => {});
      expect(free.full).toBe(true);
      expect(free.deferring).toBe(true); // within its start window
      const icount = new CompileClient(port2, sab, 1, true);
      icount.startDeferMs = 60_000;
      expect(icount.deferring).toBe(false);
    } finally {
      port1.close(); port2.close();
    }
  });
});
