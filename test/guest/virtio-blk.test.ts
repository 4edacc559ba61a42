// The virtio-blk guest kernel (kernels/virtio-blk.c: a polled virtio 1.x driver of our own)
// under QEMU 7.2 and parallax-emu with copies of the same raw images and the same flags:
//   disk 0  -drive if=none,id=d1,file=B,format=raw,readonly=on -device virtio-blk-pci,drive=d1,serial=RO-DISK
//   disk 1  -drive file=A,format=raw,if=virtio
// Both must print the golden transcript (expected/virtio-blk.1.txt, from QEMU) and leave
// byte-identical images: A changed in sectors 300-301 only, B untouched. Seconds, not minutes:
// the fast oracle beside test/linux/virtio-blk.test.ts.
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { patternImage } from '../lib/disk-pattern.js';
import {
  GUEST_SUCCESS_STATUS, QEMU_BINARY, buildGuestKernels, describeMismatch, expectedTranscriptPath, guestImage, parallaxArgs, qemuArgs,
  qemuAvailable, runProcess,
} from './harness.js';

const SECTORS = 8192;
const haveQemu = qemuAvailable();
const update = process.env.PARALLAX_UPDATE_GUEST_EXPECTED === '1';

function disks(a: string, b: string): string[] {
  return ['-drive', `if=none,id=d1,file=${b},format=raw,readonly=on`, '-device', 'virtio-blk-pci,drive=d1,serial=RO-DISK',
    '-drive', `file=${a},format=raw,if=virtio`];
}

if (!haveQemu && process.env.CI) {
  describe('virtio-blk guest kernel', () => {
    it('needs qemu-system-x86_64 on PATH (CI is set, so this is a failure)', () => { throw new Error('qemu-system-x86_64 not found'); });
  });
} else if (!haveQemu) {
  console.warn('virtio-blk guest kernel: SKIPPED, qemu-system-x86_64 is not on PATH');
  describe.skip('virtio-blk guest kernel', () => { it('skipped', () => {}); });
} else {
  describe('virtio-blk guest kernel: QEMU and parallax-emu, same images', () => {
    beforeAll(() => buildGuestKernels());

    it('same transcript as the golden one, same images left behind', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parallax-vblk-guest-'));
      const orig = join(dir, 'a.img');
      const ro = join(dir, 'b.img');
      patternImage(orig, 'PRLX-SECTOR', SECTORS);
      patternImage(ro, 'PRLX-RDONLY', SECTORS);
      const roBefore = readFileSync(ro);
      const qa = join(dir, 'qemu-a.img');
      const pa = join(dir, 'parallax-a.img');
      copyFileSync(orig, qa);
      copyFileSync(orig, pa);
      const image = guestImage('virtio-blk');
      const q = await runProcess(QEMU_BINARY, [...qemuArgs(image), ...disks(qa, ro)], 20_000);
      const golden = expectedTranscriptPath('virtio-blk', 1);
      if (update) writeFileSync(golden, q.transcript, 'latin1');
      const expected = readFileSync(golden, 'latin1');
      expect(q.transcript, describeMismatch(expected, q.transcript)).toBe(expected);
      expect(q.exitCode).toBe(GUEST_SUCCESS_STATUS);
      const p = await runProcess(process.execPath, [...parallaxArgs(image), ...disks(pa, ro)], 60_000);
      expect(p.transcript, `${describeMismatch(expected, p.transcript)}\nstderr:\n${p.stderr}`).toBe(expected);
      expect(p.exitCode, p.stderr).toBe(GUEST_SUCCESS_STATUS);
      const qi = readFileSync(qa);
      const pi = readFileSync(pa);
      expect(pi.equals(qi), 'the images QEMU and parallax-emu left differ').toBe(true);
      const o = readFileSync(orig);
      expect(pi.subarray(0, 300 * 512).equals(o.subarray(0, 300 * 512))).toBe(true);
      expect(pi.subarray(302 * 512).equals(o.subarray(302 * 512))).toBe(true);
      expect(pi.subarray(300 * 512, 300 * 512 + 16).toString('latin1')).toBe('WRITTEN-BY-GUEST');
      expect(readFileSync(ro).equals(roBefore), 'the readonly=on image changed').toBe(true);
    }, 120_000);

    it('--icount: two runs give the same replay digest (requests complete at the same instruction)', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'parallax-vblk-icount-'));
      const ro = join(dir, 'b.img');
      patternImage(ro, 'PRLX-RDONLY', SECTORS);
      const digests: string[] = [];
      for (const i of [1, 2]) {
        const a = join(dir, `a${i}.img`);
        patternImage(a, 'PRLX-SECTOR', SECTORS);
        const p = await runProcess(process.execPath, [...parallaxArgs(guestImage('virtio-blk')), '--icount', 'shift=6,sleep=off', '--stats', ...disks(a, ro)], 60_000);
        expect(p.exitCode, p.stderr).toBe(GUEST_SUCCESS_STATUS);
        const d = /replay digest \S+: console \S+ \(\d+ bytes\), frames \S+ \(\d+\), instructions \d+, guest time \d+ ns/.exec(p.stderr + p.transcript);
        expect(d, `no replay digest in:\n${p.stderr}`).not.toBeNull();
        digests.push(d![0]);
      }
      expect(digests[1]).toBe(digests[0]);
    }, 120_000);
  });
}
