// Stock Debian Linux (linux-image-amd64's bzImage) boots on parallax-emu as on QEMU 7.2: an
// initramfs whose /init (busybox sh) prints a marker with the CPU count the kernel brought
// online and powers off (`poweroff -f`: the kernel's ACPI S5 through PM1a_CNT). The machine must
// end by that power-off (status 0) with the marker printed, on 1, 2 and 4 cores; QEMU runs the
// same image in the same test. Boot times are printed (docs/BOOT.md records them).
//
// Slow: the kernel decompresses itself (xz, ~60 MB) under emulation. Known load dependence: on a
// saturated host Linux's check_timer() can panic ("IO-APIC + timer doesn't work!") because guest
// time runs on while the emulator cannot run the guest (issue 13, timing; not a loader matter).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QEMU_BINARY, QEMU_CPU_MODEL, parallaxCli, qemuAvailable, runProcess } from '../guest/harness.js';
import { debianKernel, missingReason, staticBusybox } from './distro.js';
import { busyboxInitramfs, LINUX_MARKER, markerInit } from './initramfs.js';

const kernel = debianKernel();
const busybox = staticBusybox();
const haveQemu = qemuAvailable();
const missing = [...(kernel ? [] : ['linux-image-amd64 (/boot/vmlinuz-*)']), ...(busybox ? [] : ['busybox-static']), ...(haveQemu ? [] : ['qemu-system-x86_64'])];
const MEM_MIB = 256;
/** per boot; the emulator decompresses ~60 MB of xz before the kernel starts */
const LIMIT_MS = 25 * 60_000;

function initrd(): string {
  const dir = mkdtempSync(join(tmpdir(), 'parallax-linux-'));
  const path = join(dir, 'initrd.cpio');
  writeFileSync(path, busyboxInitramfs(busybox!, markerInit()));
  return path;
}

if (missing.length && process.env.CI) {
  describe('stock Linux boot', () => {
    it('needs the Debian packages (CI is set, so this is a failure)', () => {
      throw new Error(missingReason(missing));
    });
  });
} else if (missing.length) {
  console.warn(`stock Linux boot: SKIPPED, ${missingReason(missing)}`);
  describe.skip('stock Linux boot', () => { it('skipped', () => {}); });
} else {
  describe('stock Linux boot (Debian linux-image-amd64, busybox initramfs, ACPI power-off)', () => {
    const rd = initrd();
    for (const cores of [1, 2, 4]) {
      it(`QEMU and parallax-emu, ${cores} core(s): marker printed, machine powered off`, async () => {
        const append = 'console=ttyS0';
        const q = await runProcess(QEMU_BINARY, [
          '-machine', 'pc', '-cpu', QEMU_CPU_MODEL, '-no-reboot', '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
          '-net', 'none', '-kernel', kernel!, '-initrd', rd, '-append', append, '-m', String(MEM_MIB), '-smp', String(cores),
        ], LIMIT_MS);
        const p = await runProcess(process.execPath, [
          parallaxCli(), '--kernel', kernel!, '--initrd', rd, '--append', append, '--memory', String(MEM_MIB), '--cores', String(cores),
        ], LIMIT_MS);
        console.log(`linux ${cores} core(s): QEMU ${(q.wallMs / 1000).toFixed(1)} s, parallax-emu ${(p.wallMs / 1000).toFixed(1)} s (load ${loadavg()[0].toFixed(1)})`);
        const want = `${LINUX_MARKER} cpus=${cores}`;
        expect(q.transcript, `QEMU transcript tail:\n${q.transcript.slice(-3000)}`).toContain(want);
        expect(q.exitCode).toBe(0);
        expect(p.timedOut, `parallax-emu ran past ${LIMIT_MS} ms; tail:\n${p.transcript.slice(-3000)}\n${p.stderr}`).toBe(false);
        expect(p.transcript, `parallax-emu transcript tail:\n${p.transcript.slice(-3000)}\nstderr: ${p.stderr}`).toContain(want);
        expect(p.transcript).toContain('reboot: Power down');
        expect(p.exitCode, `stderr: ${p.stderr}`).toBe(0);
      }, 2 * LIMIT_MS + 60_000);
    }
  });
}
