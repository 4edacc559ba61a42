// The virtio-blk oracle: stock Debian Linux (its own virtio_pci and virtio_blk modules, loaded
// from a busybox initramfs) on parallax-emu and on QEMU 7.2 with copies of the same raw images:
//   vda  -drive if=none,id=d1,file=B,readonly=on + -device virtio-blk-pci,drive=d1
//                                                                 seen read-only, a write refused
//   vdb  -drive file=A,format=raw,if=virtio                       read a known sector pattern,
//                                                                 write a sector, fsync (FLUSH)
// (QEMU makes if=virtio disks after every -device, so the -device one is first on the bus.)
// The DISK lines /init prints must be the same on both, and the images both machines leave
// behind must be byte-identical (and differ from the original only in the sector written).
//
// PVH boot of the bzImage's own vmlinux with no_timer_check, as docs/BOOT.md's table: the same
// kernel without decompressing it under emulation. Slow (minutes) and gated like the other
// Linux tests: skipped with the reason when packages are missing, a failure with CI set.
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { QEMU_BINARY, QEMU_CPU_MODEL, parallaxCli, qemuAvailable, runProcess } from '../guest/harness.js';
import { S_IFDIR, S_IFREG } from './cpio-newc.js';
import { debianKernel, missingReason, staticBusybox } from './distro.js';
import { busyboxInitramfs } from './initramfs.js';
import { pvhVmlinux } from './vmlinux.js';
import { patternImage } from '../lib/disk-pattern.js';

const kernel = debianKernel();
const busybox = staticBusybox();
const haveQemu = qemuAvailable();
const version = kernel?.replace(/^.*vmlinuz-/, '');
const MODULES = ['virtio_ring', 'virtio', 'virtio_pci_modern_dev', 'virtio_pci_legacy_dev', 'virtio_pci', 'virtio_blk'];
const moduleDir = version ? `/lib/modules/${version}/kernel/drivers` : '';
const modulePath = (m: string) => join(moduleDir, m === 'virtio_blk' ? 'block' : 'virtio', `${m}.ko`);
const vmlinux = kernel ? pvhVmlinux(kernel) : { missing: 'no kernel' };
const missing = [
  ...(kernel ? [] : ['linux-image-amd64 (/boot/vmlinuz-*)']), ...(busybox ? [] : ['busybox-static']), ...(haveQemu ? [] : ['qemu-system-x86_64']),
  ...(kernel && !MODULES.every((m) => existsSync(modulePath(m))) ? [`virtio modules under ${moduleDir}`] : []),
  ...('missing' in vmlinux && kernel ? [vmlinux.missing] : []),
];
const MEM_MIB = 256;
const LIMIT_MS = 25 * 60_000;
const DISK_SECTORS = 8192; // 4 MiB
const WRITE_SECTOR = 200;
const WRITTEN = 'written-by-linux-through-virtio-blk';


function init(): string {
  const bb = '/bin/busybox';
  return [
    `#!${bb} sh`,
    `${bb} mount -t proc proc /proc`,
    `${bb} mount -t sysfs sys /sys`,
    `${bb} mount -t devtmpfs dev /dev`,
    ...MODULES.map((m) => `${bb} insmod /lib/${m}.ko || ${bb} echo "DISK insmod ${m} failed"`),
    `for i in 1 2 3 4 5 6 7 8 9 10; do [ -b /dev/vdb ] && break; ${bb} sleep 1; done`,
    `${bb} echo "DISK vdb sectors=$(${bb} cat /sys/block/vdb/size) ro=$(${bb} cat /sys/block/vdb/ro)"`,
    `${bb} echo "DISK vda sectors=$(${bb} cat /sys/block/vda/size) ro=$(${bb} cat /sys/block/vda/ro)"`,
    `${bb} echo "DISK vdb sector0 $(${bb} dd if=/dev/vdb bs=18 count=1 2>/dev/null)"`,
    `${bb} echo "DISK vdb sector8191 $(${bb} dd if=/dev/vdb bs=512 skip=8191 count=1 2>/dev/null | ${bb} head -c 18)"`,
    `${bb} echo "DISK vdb md5 $(${bb} dd if=/dev/vdb bs=4096 2>/dev/null | ${bb} md5sum)"`,
    `${bb} echo "DISK vda md5 $(${bb} dd if=/dev/vda bs=4096 skip=100 count=50 2>/dev/null | ${bb} md5sum)"`,
    `${bb} echo ${WRITTEN} | ${bb} dd of=/dev/vdb bs=512 seek=${WRITE_SECTOR} count=1 conv=sync,fsync 2>/dev/null && ${bb} echo "DISK vdb write ok"`,
    `${bb} echo x | ${bb} dd of=/dev/vda bs=512 count=1 conv=sync,fsync 2>/dev/null || ${bb} echo "DISK vda write refused"`,
    `${bb} echo 3 > /proc/sys/vm/drop_caches`,
    `${bb} echo "DISK vdb reread $(${bb} dd if=/dev/vdb bs=512 skip=${WRITE_SECTOR} count=1 2>/dev/null | ${bb} head -c ${WRITTEN.length})"`,
    `${bb} echo "DISK done"`,
    `${bb} poweroff -f`,
    '',
  ].join('\n');
}

function initrd(dir: string): string {
  const path = join(dir, 'initrd.cpio');
  writeFileSync(path, busyboxInitramfs(busybox!, init(), [
    { name: 'sys', mode: S_IFDIR | 0o755 },
    { name: 'lib', mode: S_IFDIR | 0o755 },
    ...MODULES.map((m) => ({ name: `lib/${m}.ko`, mode: S_IFREG | 0o644, data: new Uint8Array(readFileSync(modulePath(m))) })),
  ]));
  return path;
}

const diskLines = (t: string) => t.split(/\r?\n/).filter((l) => l.startsWith('DISK ')).map((l) => l.trimEnd());

function diskFlags(a: string, b: string): string[] {
  return ['-drive', `file=${a},format=raw,if=virtio`, '-drive', `if=none,id=d1,file=${b},format=raw,readonly=on`, '-device', 'virtio-blk-pci,drive=d1'];
}

if (missing.length && process.env.CI) {
  describe('virtio-blk under Linux', () => {
    it('needs the Debian packages (CI is set, so this is a failure)', () => { throw new Error(missingReason(missing)); });
  });
} else if (missing.length) {
  console.warn(`virtio-blk under Linux: SKIPPED, ${missingReason(missing)}`);
  describe.skip('virtio-blk under Linux', () => { it('skipped', () => {}); });
} else {
  describe('virtio-blk under stock Linux: parallax-emu against QEMU 7.2, same images', () => {
    it('reads the pattern, writes and flushes a sector, refuses a read-only disk; images end identical', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parallax-vblk-'));
      const rd = initrd(dir);
      const orig = join(dir, 'a.img');
      const ro = join(dir, 'b.img');
      patternImage(orig, 'PRLX-SECTOR', DISK_SECTORS);
      patternImage(ro, 'PRLX-RDONLY', DISK_SECTORS);
      const qa = join(dir, 'qemu-a.img');
      const pa = join(dir, 'parallax-a.img');
      copyFileSync(orig, qa);
      copyFileSync(orig, pa);
      const vm = (vmlinux as { path: string }).path;
      const append = 'console=ttyS0 no_timer_check';
      const q = await runProcess(QEMU_BINARY, [
        '-machine', 'pc', '-cpu', QEMU_CPU_MODEL, '-no-reboot', '-display', 'none', '-serial', 'stdio', '-monitor', 'none',
        '-net', 'none', '-kernel', vm, '-initrd', rd, '-append', append, '-m', String(MEM_MIB), '-smp', '1', ...diskFlags(qa, ro),
      ], LIMIT_MS);
      const p = await runProcess(process.execPath, [
        parallaxCli(), '--kernel', vm, '--initrd', rd, '--append', append, '--memory', String(MEM_MIB), '--cores', '1', ...diskFlags(pa, ro),
      ], LIMIT_MS);
      console.log(`virtio-blk linux: QEMU ${(q.wallMs / 1000).toFixed(1)} s, parallax-emu ${(p.wallMs / 1000).toFixed(1)} s (load ${loadavg()[0].toFixed(1)})`);
      const qd = diskLines(q.transcript);
      const pd = diskLines(p.transcript);
      console.log(`QEMU:\n${qd.join('\n')}\nparallax-emu:\n${pd.join('\n')}`);
      const kernelLines = (t: string) => t.split(/\r?\n/).filter((l) => /virtio|pci |PCI|vd[a-z]|IRQ|insmod/.test(l)).join('\n');
      if (pd.join() !== qd.join()) console.log(`kernel lines, QEMU:\n${kernelLines(q.transcript)}\nparallax-emu:\n${kernelLines(p.transcript)}`);
      expect(q.exitCode, `QEMU tail:\n${q.transcript.slice(-3000)}\n${q.stderr}`).toBe(0);
      // what QEMU shows is what the test claims of Linux on a virtio disk: the oracle is sane
      expect(qd).toContain(`DISK vdb sectors=${DISK_SECTORS} ro=0`);
      expect(qd).toContain(`DISK vda sectors=${DISK_SECTORS} ro=1`);
      expect(qd).toContain('DISK vdb sector0 PRLX-SECTOR-000000');
      expect(qd).toContain('DISK vdb write ok');
      expect(qd).toContain('DISK vda write refused');
      expect(qd).toContain(`DISK vdb reread ${WRITTEN}`);
      expect(qd).toContain('DISK done');
      expect(p.timedOut, `parallax-emu ran past ${LIMIT_MS} ms; tail:\n${p.transcript.slice(-3000)}\n${p.stderr}`).toBe(false);
      expect(pd, `parallax-emu tail:\n${p.transcript.slice(-4000)}\nstderr: ${p.stderr}`).toEqual(qd);
      expect(p.exitCode, `stderr: ${p.stderr}`).toBe(0);
      // the images: identical between the machines, the original but for the sector written
      const qi = readFileSync(qa);
      const pi = readFileSync(pa);
      expect(pi.equals(qi), 'the images QEMU and parallax-emu left differ').toBe(true);
      const want = readFileSync(orig);
      want.fill(0, WRITE_SECTOR * 512, (WRITE_SECTOR + 1) * 512);
      want.write(`${WRITTEN}\n`, WRITE_SECTOR * 512, 'latin1');
      expect(pi.equals(want), 'parallax-emu image is not the original plus the one sector').toBe(true);
      expect(readFileSync(ro).subarray(0, 17).toString('latin1')).toBe('PRLX-RDONLY-00000');
    }, 2 * LIMIT_MS + 60_000);
  });
}
