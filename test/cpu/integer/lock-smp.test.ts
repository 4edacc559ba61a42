// LOCKed read-modify-writes from two cores at once (one worker thread each, one shared RAM):
// the totals must be exact. Workers run the built code (dist/, made by `npm test`'s build step);
// the test is skipped when it has not been built.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { asm } from './core.js';

const dist = fileURLToPath(new URL('../../../dist/src/', import.meta.url));
const built = existsSync(dist + 'cpu/cpu.js') && existsSync(dist + 'abi/shared-memory.js');

const RAM = 4 << 20;
const COUNTER = 0x80000;
const ITERATIONS = 100_000;

/** Worker body: a long-mode core over the shared RAM (page tables built by the main thread). */
const workerSource = `
const { workerData, parentPort } = require('node:worker_threads');
(async () => {
  const { Cpu } = await import(workerData.dist + 'cpu/cpu.js');
  const shared = workerData.shared;
  const cpu = new Cpu(shared, { ioRead: () => -1, ioWrite() {}, mmioRead: () => -1, mmioWrite() {} }, workerData.core);
  cpu.cr3 = 0x1000; cpu.cr0 = 0x80010031; cpu.cr4 = 0x220; cpu.efer = 0xd00;
  cpu.pagingMode = 4; cpu.protectedMode = true; cpu.mode64 = true; cpu.def32 = false; cpu.stackSize = 8; cpu.cpl = 0;
  cpu.segAttr[1] = 0x209b; cpu.idtLimit = 0; cpu.stopOnFault = true; cpu.selectTlbSet();
  cpu.lo[4] = 0x70000 - workerData.core * 0x1000;
  cpu.lo[3] = ${COUNTER};
  cpu.rip = workerData.code;
  // start together: report ready, then wait for the main thread's go
  const gate = new Int32Array(workerData.gate);
  parentPort.postMessage('ready');
  Atomics.wait(gate, 0, 0);
  while (cpu.run(1000000) !== 5) { /* until the ud2 at the end */ }
  parentPort.postMessage({ vector: cpu.faultVector, rip: cpu.rip, rax: cpu.lo[0] });
})();
`;

describe.skipIf(!built)('LOCK across two cores', () => {
  it('LOCK INC / XADD / CMPXCHG loops from two workers give exact totals', async () => {
    const { createSharedMemory } = await import(dist + 'abi/shared-memory.js') as typeof import('../../../src/abi/shared-memory.js');
    const { createControlBuffer } = await import(dist + 'abi/control-block.js') as typeof import('../../../src/abi/control-block.js');
    const { ramLayout } = await import(dist + 'abi/memory-map.js') as typeof import('../../../src/abi/memory-map.js');
    const shared = createSharedMemory(RAM, ramLayout(RAM), createControlBuffer(2, RAM));
    const dv = new DataView(shared.ram);
    dv.setUint32(0x1000, 0x2000 | 7, true);
    dv.setUint32(0x2000, 0x3000 | 7, true);
    dv.setUint32(0x3000, 0x000000 | 0x87, true);
    dv.setUint32(0x3008, 0x200000 | 0x87, true);
    // [rbx]: LOCK INC counter; [rbx+8]: LOCK XADD counter; [rbx+16]: CMPXCHG-loop counter; [rbx+20]: byte lock bit
    const code = asm(64, `
      mov ecx, ${ITERATIONS}
    1:
      lock inc dword ptr [rbx]
      mov eax, 2
      lock xadd dword ptr [rbx+8], eax
    2:
      mov eax, dword ptr [rbx+16]
      lea edx, [rax+3]
      lock cmpxchg dword ptr [rbx+16], edx
      jnz 2b
      lock bts dword ptr [rbx+24], 0
      jc 3f
      inc dword ptr [rbx+28]
      lock btr dword ptr [rbx+24], 0
    3:
      dec ecx
      jnz 1b
      ud2`);
    const codeAt = 0x10000;
    new Uint8Array(shared.ram).set(code, codeAt);
    const gate = new SharedArrayBuffer(4);
    let ready = 0;
    const go = () => { if (++ready === 2) { Atomics.store(new Int32Array(gate), 0, 1); Atomics.notify(new Int32Array(gate), 0); } };
    const runs = [0, 1].map((core) => new Promise<{ vector: number; rip: number }>((resolve, reject) => {
      const w = new Worker(workerSource, { eval: true, workerData: { shared, core, code: codeAt, dist, gate } });
      w.on('message', (m) => { if (m === 'ready') go(); else { resolve(m); void w.terminate(); } });
      w.once('error', reject);
    }));
    const results = await Promise.all(runs);
    for (const r of results) expect(r.vector).toBe(6); // both stopped at the final ud2
    expect(dv.getUint32(COUNTER, true)).toBe(2 * ITERATIONS);
    expect(dv.getUint32(COUNTER + 8, true)).toBe(4 * ITERATIONS);
    expect(dv.getUint32(COUNTER + 16, true)).toBe(6 * ITERATIONS);
    expect(dv.getUint32(COUNTER + 24, true)).toBe(0); // the bit lock was always released
    expect(dv.getUint32(COUNTER + 28, true)).toBeGreaterThan(0);
  }, 60_000);
});
