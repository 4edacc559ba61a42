// The 8259's ExtINT hand-over under real concurrency: a worker thread plays core 0 (taking
// ExtINTs with the documented read-vector-then-clear protocol) while this thread raises IRQs,
// masks and unmasks (which withdraws posted requests) and sends EOIs. Every vector the core
// takes must be one the PIC commits (IRR->ISR) exactly once.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { C_EXTINT_VECTOR, C_PENDING, P_EXTINT, coreBase, createControlBuffer } from '../../../src/abi/control-block.js';
import { Pic8259 } from '../../../src/devices/pic8259.js';

const CORE = `
const { workerData } = require('node:worker_threads');
const { ctl, out, pendingAt, vectorAt, P_EXTINT } = workerData;
for (;;) {
  if (Atomics.load(out, 0) === 1) break;
  if ((Atomics.load(ctl, pendingAt) & P_EXTINT) === 0) continue;
  const v = Atomics.load(ctl, vectorAt);
  const old = Atomics.and(ctl, pendingAt, ~P_EXTINT);
  if ((old & P_EXTINT) === 0) continue; // withdrawn meanwhile
  Atomics.add(out, 2 + v, 1);
  Atomics.add(out, 1, 1); // "EOI please"
}
`;

describe('ExtINT hand-over across threads', () => {
  it('never delivers a withdrawn request and never delivers one twice', async () => {
    const ctl = createControlBuffer(1, 16 << 20);
    const pic = new Pic8259(ctl);
    for (const [p, v] of [[0x20, 0x11], [0x21, 0x20], [0x21, 0x04], [0x21, 0x01], [0xa0, 0x11], [0xa1, 0x28], [0xa1, 0x02], [0xa1, 0x01], [0x21, 0], [0xa1, 0]]) {
      pic.ioWrite(p, 1, v);
    }
    const out = new Int32Array(new SharedArrayBuffer(4 * (2 + 256)));
    const b = coreBase(0);
    const worker = new Worker(CORE, {
      eval: true,
      workerData: { ctl, out, pendingAt: b + C_PENDING, vectorAt: b + C_EXTINT_VECTOR, P_EXTINT },
    });
    await new Promise((r) => setTimeout(r, 50));
    let eoisDone = 0;
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const irqs = [1, 3, 4, 5, 9, 12];
    const deadline = Date.now() + 1000;
    let ops = 0;
    while (Date.now() < deadline) {
      ops++;
      const r = rand(10);
      if (r < 5) {
        const irq = irqs[rand(irqs.length)];
        pic.setIrq(irq, true);
        pic.setIrq(irq, false);
      } else if (r < 7) {
        pic.ioWrite(0x21, 1, rand(2) ? 0x18 : 0x00); // mask / unmask IRQ3+4
      } else if (r < 8) {
        pic.ioWrite(0xa1, 1, rand(2) ? 0x02 : 0x00); // mask / unmask IRQ9
      }
      const wanted = Atomics.load(out, 1);
      while (eoisDone < wanted) {
        pic.ioWrite(0x20, 1, 0x0b);
        const masterIsr = pic.ioRead(0x20, 1);
        expect(masterIsr).not.toBe(0); // whatever the core took is in service
        if (masterIsr & 0x04) pic.ioWrite(0xa0, 1, 0x20);
        pic.ioWrite(0x20, 1, 0x20);
        eoisDone++;
      }
    }
    pic.ioWrite(0x21, 1, 0xff);
    pic.ioWrite(0xa1, 1, 0xff);
    await new Promise((r) => setTimeout(r, 20));
    Atomics.store(out, 0, 1);
    await new Promise((r) => worker.on('exit', r));
    pic.intaDone();
    let delivered = 0;
    for (let v = 0; v < 256; v++) delivered += out[2 + v];
    // (throughput depends on how busy the host's cores are; the invariant is what matters)
    expect(ops).toBeGreaterThan(1000);
    expect(delivered).toBeGreaterThan(10);
    expect(delivered).toBe(pic.taken);
    for (let v = 0; v < 256; v++) {
      if (out[2 + v] === 0) continue;
      expect(v >= 0x20 && v < 0x30).toBe(true);
    }
  }, 20_000);
});
