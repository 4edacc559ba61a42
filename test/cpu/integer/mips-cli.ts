// Measures interpreted MIPS on simple 64-bit loops: node dist/test/cpu/integer/mips-cli.js
import { makeCore, run } from './core.js';

const loops: [string, number[]][] = [
  // mov ecx, N; L: add eax, ebx; dec ecx; jnz L
  ['add/dec/jnz', [0xb9, 0, 0, 0, 0, 0x01, 0xd8, 0xff, 0xc9, 0x75, 0xfa]],
  // L: mov rdx,[rsi]; add rdx, rax; mov [rsi+8], rdx; lea rsi,[rsi+0]; cmp rdx, rbx; dec ecx; jnz L
  ['load/add/store/lea/cmp/dec/jnz', [0xb9, 0, 0, 0, 0, 0x48, 0x8b, 0x16, 0x48, 0x01, 0xc2, 0x48, 0x89, 0x56, 0x08, 0x48, 0x8d, 0x36,
    0x48, 0x39, 0xda, 0xff, 0xc9, 0x75, 0xec]],
  // L: push rax; pop rdx; call f; dec ecx; jnz L; jmp out; f: ret; out:
  ['push/pop/call/ret', [0xb9, 0, 0, 0, 0, 0x50, 0x5a, 0xe8, 0x06, 0, 0, 0, 0xff, 0xc9, 0x75, 0xf5, 0xeb, 0x01, 0xc3]],
];
const N = Number(process.argv[2] ?? 3_000_000);
for (const [name, code] of loops) {
  const core = makeCore(64);
  const c = [...code];
  c[1] = N & 0xff; c[2] = (N >> 8) & 0xff; c[3] = (N >> 16) & 0xff; c[4] = (N >>> 24) & 0xff;
  core.cpu.lo[6] = 0x80000;
  run(core, c, { budget: 1e9 }); // warm-up run
  const t0 = performance.now();
  const r0 = core.cpu.retired;
  run(core, c, { budget: 1e9 });
  const dt = performance.now() - t0;
  const n = core.cpu.retired - r0;
  console.log(`${name}: ${(n / dt / 1000).toFixed(1)} MIPS (${n} instructions in ${dt.toFixed(0)} ms)`);
}
