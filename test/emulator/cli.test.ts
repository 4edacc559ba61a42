// End-to-end tests of the `parallax-emu` command: boot protocols, bad input (one-line error,
// exit status 2), and the machine's ends (isa-debug-exit, triple fault, every core halted).

import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, elf64, multiboot1, multiboot2 } from './mini-kernels.js';

const cli = resolve(__dirname, '../../dist/src/cli/parallax-emu.js');
const dir = mkdtempSync(join(tmpdir(), 'parallax-cli-'));

function image(name: string, bytes: Uint8Array): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

function emu(args: string[], timeoutMs = 30_000) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, signal: r.signal };
}

const okBody = [...code.print('ok\n'), ...code.exit(0x21)];

describe('boot protocols', () => {
  it('boots a Multiboot 1 (a.out kludge) kernel and exits through isa-debug-exit', () => {
    const r = emu(['--kernel', image('mb1.bin', multiboot1(okBody))]);
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe((0x21 << 1) | 1);
  });

  it('boots a Multiboot 2 kernel', () => {
    const r = emu(['--kernel', image('mb2.bin', multiboot2(okBody)), '-smp', '2']);
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe((0x21 << 1) | 1);
  });

  it('boots a plain ELF64 kernel in long mode (QEMU refuses these)', () => {
    const r = emu(['--kernel', image('k.elf', elf64(okBody)), '-m', '64']);
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe((0x21 << 1) | 1);
  });
});

describe('bad input: one clear line and exit status 2', () => {
  const good = () => image('good.bin', multiboot1(okBody));
  const cases: [string, () => string[], RegExp][] = [
    ['--cores 0', () => ['--kernel', good(), '--cores', '0'], /--cores must be an integer from 1 to 255/],
    ['--cores 9999', () => ['--kernel', good(), '--cores', '9999'], /--cores must be an integer from 1 to 255/],
    ['-smp abc', () => ['--kernel', good(), '-smp', 'abc'], /--cores/],
    ['a malformed memory size', () => ['--kernel', good(), '-m', 'lots'], /invalid memory size/],
    ['memory the host cannot give', () => ['--kernel', good(), '-m', '64T'], /memory|allocate/],
    ['a file that is not a kernel', () => ['--kernel', image('junk.bin', Uint8Array.from({ length: 4096 }, (_, i) => (i * 7) & 0xff))], /not a kernel/],
    ['a truncated ELF', () => ['--kernel', image('trunc.elf', elf64(okBody).slice(0, 90))], /ELF|truncated/i],
    ['a missing kernel file', () => ['--kernel', join(dir, 'nope.elf')], /cannot read kernel .*no such file/],
    ['an unknown option', () => ['--kernel', good(), '--frobnicate'], /Unknown argument/i],
    ['a bad network backend', () => ['--kernel', good(), '--net', 'carrier-pigeon'], /net|backend/i],
    ['-bios with --kernel', () => ['-bios', image('bios64k.bin', new Uint8Array(65536)), '--kernel', good()], /cannot be combined with --kernel/],
    ['a BIOS image that is not whole 64 KiB blocks', () => ['-bios', image('bios-odd.bin', new Uint8Array(1000))], /64 KiB blocks/],
    ['a missing -hda image', () => ['-bios', image('bios64k.bin', new Uint8Array(65536)), '-hda', join(dir, 'nope.img')], /cannot open disk image .*no such file/],
    ['an -hda image smaller than a sector', () => ['-bios', image('bios64k.bin', new Uint8Array(65536)), '-hda', image('tiny.img', new Uint8Array(100))], /smaller than one 512-byte sector/],
    ['an unknown -debugcon backend', () => ['--kernel', good(), '-debugcon', 'pipe:x'], /-debugcon pipe:x is not supported/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = emu(args());
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^parallax-emu: /);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('how a machine ends', () => {
  it('reports a triple fault with the core and RIP, exit status 4', () => {
    const r = emu(['--kernel', image('tf.bin', multiboot1([...code.print('x'), ...code.ud2]))]);
    expect(r.stdout).toBe('x');
    expect(r.status).toBe(4);
    expect(r.stderr).toMatch(/core 0 triple fault at rip 0x10002[0-9a-f]/);
  });

  it('reports every core halted with interrupts off, exit status 6, without hanging', () => {
    // "without hanging": the machine exits by itself (status 6; a kill at the 20 s limit leaves none),
    // not within a wall-clock bound a loaded host can break
    const r = emu(['--kernel', image('hlt.bin', multiboot1([...code.print('z'), ...code.cliHlt])), '--cores', '4'], 20_000);
    expect(r.status).toBe(6);
    expect(r.stderr).toMatch(/every core is halted with interrupts disabled/);
    expect(r.stderr).toMatch(/core 0 halted at rip 0x1000/);
  });

  it('passes --append to the kernel command line after the kernel name, as QEMU does', () => {
    // the kernel prints nothing here; the loader tests check the bytes: just make sure it boots
    const r = emu(['--kernel', image('app.bin', multiboot1(okBody)), '--append', 'a=b c']);
    expect(r.status).toBe((0x21 << 1) | 1);
  });
});

describe('console', () => {
  it('a console reader that goes away (| head) ends the machine quietly', () => {
    const many = multiboot1([...code.print('line\n'.repeat(200)), ...code.spin]);
    const r = spawnSync('bash', ['-c', `node ${cli} --kernel ${image('many.bin', many)} | head -1; echo "status=\${PIPESTATUS[0]}"`],
      { encoding: 'utf8', timeout: 30_000 });
    expect(r.stdout).toBe('line\nstatus=0\n');
    expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
  });
});
