// QEMU's command-line habits: flags that describe what parallax-emu always does are accepted,
// flags that would mean something else are refused with the reason; --version/-V, -h, typos
// answered with a did-you-mean; the console's Ctrl-A keys (h help, c monitor, x quit) and the
// monitor on -monitor stdio; the hint line on an interactive console.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { code, multiboot1 } from './mini-kernels.js';
import { haveCommand } from '../tool-gate.js';

const cli = resolve(__dirname, '../../dist/src/cli/parallax-emu.js');
const dir = mkdtempSync(join(tmpdir(), 'parallax-conventions-'));
const okImage = join(dir, 'ok.bin');
writeFileSync(okImage, multiboot1([...code.print('ok\n'), ...code.exit(0x21)]));
const spinImage = join(dir, 'spin.bin');
writeFileSync(spinImage, multiboot1([...code.print('up\n'), ...code.spin]));
const version = JSON.parse(readFileSync(resolve(__dirname, '../../package.json'), 'utf8')).version;

function emu(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cli, ...args], { encoding: 'latin1', input, timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('QEMU flags', () => {
  it('accepts the flags that describe this machine, and boots', () => {
    const r = emu(['-kernel', okImage, '-nographic', '-serial', 'stdio', '-display', 'none', '-no-reboot', '-vga', 'none',
      '-machine', 'pc', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04', '-monitor', 'none']);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('ok\n');
    expect(r.status).toBe((0x21 << 1) | 1);
  });

  it('-serial file:PATH: COM1 goes to the file (as QEMU\'s file chardev), stdout stays quiet', () => {
    const out = join(dir, 'com1.txt');
    writeFileSync(out, 'old contents, truncated\n');
    const r = emu(['-kernel', okImage, '-nographic', '-serial', `file:${out}`]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('');
    expect(readFileSync(out, 'latin1')).toBe('ok\n');
    expect(r.status).toBe((0x21 << 1) | 1);
  });

  const refused: [string[], RegExp][] = [
    [['-enable-kvm'], /QEMU's -enable-kvm is not supported: .*translator/],
    [['-accel', 'kvm'], /-accel is not supported/],
    [['-serial', 'pty'], /-serial pty is not supported \(accepted: stdio \| mon:stdio \| file:PATH/],
    [['-serial', 'file:'], /-serial file: is not supported/],
    [['-serial', 'file:a.txt', '-serial', 'stdio'], /-serial: one only/],
    [['-display', 'gtk'], /-display gtk is not supported/],
    [['-device', 'virtio-net-pci'], /-device virtio-net-pci is not supported/],
    [['-no-shutdown'], /-no-shutdown is not supported/],
    [['-monitor', 'telnet::4444'], /-monitor telnet::4444 is not supported/],
    [['-gdb', 'udp:1234'], /-gdb udp:1234: expected tcp::PORT/],
  ];
  for (const [flags, message] of refused) {
    it(`refuses ${flags.join(' ')} with the reason, one line, status 2`, () => {
      const r = emu(['-kernel', okImage, ...flags]);
      expect(r.status).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    });
  }
});

describe('--version, -h and typos', () => {
  it('prints the version for --version, -V and -version', () => {
    for (const f of ['--version', '-V', '-version']) {
      const r = emu([f]);
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(`parallax-emu ${version}\n`);
    }
  });

  it('prints the options for -h, with the debugging and QEMU groups', () => {
    const r = emu(['-h']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Debugging and control:[\s\S]*-gdb[\s\S]*--qmp/);
    expect(r.stdout).toMatch(/Accepted for QEMU command lines/);
  });

  it('answers a typo with the nearest option, in the dash style it was typed', () => {
    expect(emu(['-smpp', '2']).stderr).toMatch(/Unknown argument: -smpp \(did you mean -smp\?\)/);
    expect(emu(['--kernl', 'x']).stderr).toMatch(/Unknown argument: --kernl \(did you mean --kernel\?\)/);
    expect(emu(['--zzzzzzzz']).stderr).not.toMatch(/did you mean/);
  });
});

describe('console keys and the monitor', () => {
  it('Ctrl-A h prints the keys, Ctrl-A c opens the monitor, Ctrl-A x quits (-serial mon:stdio)', () => {
    const r = emu(['-kernel', spinImage, '-serial', 'mon:stdio'], '\x01h\x01cinfo status\ninfo cpus\n\x01x');
    expect(r.stdout).toContain('C-a x    exit emulator');
    expect(r.stdout).toContain('C-a c    switch between console and monitor');
    expect(r.stdout).toMatch(/monitor - type 'help' for more information\n\(monitor\) VM status: running\n\(monitor\) \* CPU #0: thread_id=\d+\n/);
    expect(r.status).toBe(0);
  });

  it('-monitor stdio with -S: paused (prelaunch) until cont; x reads guest memory; quit ends the machine', () => {
    const r = emu(['-kernel', spinImage, '-monitor', 'stdio', '-S'], 'info status\nx /2x 0x100000\ncont\ninfo status\nquit\n');
    expect(r.stdout).toContain('(monitor) VM status: paused (prelaunch)\n');
    expect(r.stdout).toContain('0000000000100000: 0x1badb002 0x00010000\n');
    expect(r.stdout).toContain('(monitor) VM status: running\n');
    expect(r.status).toBe(0);
  });

  it.skipIf(!haveCommand('script', ['--version']))('prints the hint line on an interactive console', async () => {
    // script(1) gives the emulator a terminal; once the hint is out, Ctrl-A x ends it (a missing
    // hint leaves the machine spinning until the 30 s kill, and the expectation fails)
    const hint = 'Ctrl-A x quits, Ctrl-A h help, Ctrl-A c monitor';
    const child = spawn('script', ['-qec', `${process.execPath} ${cli} -kernel ${spinImage}`, '/dev/null'],
      { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let typed = false;
    const onData = (chunk: Buffer) => {
      out += chunk.toString('latin1');
      if (!typed && out.includes(hint)) { typed = true; child.stdin.write('\x01x'); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const status = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
    clearTimeout(killer);
    expect(out).toContain(hint);
    expect(typed).toBe(true);
    expect(status).not.toBeNull();
  }, 40_000);
});
