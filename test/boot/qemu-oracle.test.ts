// Compares our Multiboot 1 hand-over with QEMU 7.2's -kernel on the same probe kernel
// (fixtures/mb1-probe). Skipped where gcc -m32 or qemu-system-x86_64 is missing.

import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readModules } from '../../src/boot/initrd-spec.js';
import { loadKernel } from '../../src/boot/loader.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { failWhenMissingInCi, QEMU_HINT, toolGate } from '../tool-gate.js';

const here = dirname(fileURLToPath(import.meta.url));
const probeDir = join(here, 'fixtures', 'mb1-probe');

const qemu = toolGate('qemu-system-x86_64', QEMU_HINT);
const gcc = toolGate('gcc', 'Debian: apt-get install gcc', ['-m32', '-v']);
failWhenMissingInCi(qemu, 'qemu-system-x86_64', 'Multiboot 1 hand-over matches QEMU 7.2 -kernel');
failWhenMissingInCi(gcc, 'gcc', 'Multiboot 1 hand-over matches QEMU 7.2 -kernel');
const tools = () => qemu.run && gcc.run;

function lines(out: string): Map<string, string[][]> {
  const m = new Map<string, string[][]>();
  for (const l of out.split('\n')) {
    const [k, ...rest] = l.trim().split(' ');
    if (!k) continue;
    if (!m.has(k)) m.set(k, []);
    m.get(k)!.push(rest);
  }
  return m;
}

describe.skipIf(!tools())('Multiboot 1 hand-over matches QEMU 7.2 -kernel', () => {
  it('same info fields, module layout, strings and memory map', { timeout: 60_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'mb1probe-'));
    try {
      execFileSync('gcc', ['-m32', '-ffreestanding', '-fno-pic', '-fno-stack-protector', '-O1', '-nostdlib', '-static',
        '-T', join(probeDir, 'link.ld'), '-Wl,--build-id=none', '-o', 'k.elf', join(probeDir, 'k.S'), join(probeDir, 'k.c')], { cwd: dir, stdio: 'pipe' });
      writeFileSync(join(dir, 'm1.txt'), 'hello module\n');
      writeFileSync(join(dir, 'm2.bin'), new Uint8Array(5000).fill(0x5a));
      const spec = 'm1.txt modarg,,x,m2.bin';
      const q = spawnSync('qemu-system-x86_64', ['-m', '512', '-smp', '2', '-display', 'none', '-serial', 'stdio', '-no-reboot',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-kernel', 'k.elf', '-append', 'arg1 arg2', '-initrd', spec],
      { cwd: dir, encoding: 'utf8', timeout: 30_000 });
      const qemu = lines(q.stdout);
      expect(qemu.has('done')).toBe(true);

      const layout = ramLayout(512 * 2 ** 20);
      const ram = new Uint8Array(layout.ramBytes);
      const cwd = process.cwd();
      process.chdir(dir);
      let plan;
      try {
        plan = loadKernel({ kernel: new Uint8Array(readFileSync('k.elf')), kernelPath: 'k.elf', append: 'arg1 arg2', modules: readModules(spec), ram, layout, ncores: 2 });
      } finally {
        process.chdir(cwd);
      }
      const dv = new DataView(ram.buffer);
      const h = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
      const [magic, mbiAddr, cs, ds, ss, es] = qemu.get('entry')![0];
      expect([h(plan.regs.eax), h(plan.regs.ebx), h(plan.segments.cs.selector), h(plan.segments.ds.selector), h(plan.segments.ss.selector), h(plan.segments.es.selector)])
        .toEqual([magic, mbiAddr, cs, ds, ss, es]);
      // GDT entries 1 and 2 (flat code and data) are the same descriptors
      const qg = qemu.get('gdt')![0];
      const ours = [2, 3, 4, 5].map((i) => h(dv.getUint32(plan.gdt.base + 4 * i, true)));
      expect(ours).toEqual(qg.slice(2, 6));
      // the information structure: every word, except mmap_length (QEMU may add a HyperTransport hole)
      const qm = qemu.get('mbi')![0];
      const om = Array.from({ length: 22 }, (_, i) => h(dv.getUint32(0x9500 + 4 * i, true)));
      const qe820 = qemu.get('e820')!.filter((e) => e[1] !== '000000fd');
      expect(om[11]).toBe(h(qe820.length * 24));
      om[11] = qm[11];
      expect(om).toEqual(qm);
      expect(qemu.get('mod')!.map((m) => m.join(' '))).toEqual(plan.modules.map((m, k) => {
        const string = `${m.string}`;
        return `${h(m.start)} ${h(m.end)} ${h(dv.getUint32(dv.getUint32(0x9500 + 24, true) + 16 * k + 12, true))} ${string}`;
      }));
      expect(qemu.get('cmdline')![0].join(' ')).toBe('k.elf arg1 arg2');
      expect(qemu.get('loader')![0].join(' ')).toBe('qemu');
      const oe820 = plan.memoryMap.map((e) => ['00000014', h(Math.floor(e.base / 2 ** 32)), h(e.base), h(Math.floor(e.length / 2 ** 32)), h(e.length), h(e.type)]);
      expect(oe820).toEqual(qe820);
      expect(qemu.get('bda')![0]).toEqual([h(0x3f8), h(0x9fc0), h(639)]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
