// The uncompressed vmlinux inside a Debian bzImage (its xz payload: payload_offset/length in
// the setup header, after the setup sectors), for PVH boots that skip decompressing ~60 MB
// under emulation. Extracted once per machine into the temporary directory with `xz -d`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Path of the vmlinux, or a reason it cannot be had (no xz, not an xz payload). */
export function pvhVmlinux(bzImage: string): { path: string } | { missing: string } {
  const out = join(tmpdir(), `parallax-${basename(bzImage)}-${statSync(bzImage).mtimeMs}.vmlinux`);
  if (existsSync(out)) return { path: out };
  const b = readFileSync(bzImage);
  const setupSects = b[0x1f1] || 4;
  const off = (setupSects + 1) * 512 + b.readUInt32LE(0x248);
  const payload = b.subarray(off, off + b.readUInt32LE(0x24c));
  if (payload[0] !== 0xfd || payload.subarray(1, 6).toString('latin1') !== '7zXZ\0') return { missing: `${bzImage}: payload is not xz` };
  const r = spawnSync('xz', ['-dc'], { input: payload, maxBuffer: 512 << 20 });
  // xz complains about the padding Linux appends after the stream; the stream itself is whole
  if (r.error || !r.stdout || r.stdout.length < 1 << 20) return { missing: `xz (xz-utils) could not unpack ${bzImage}: ${r.error?.message ?? r.stderr.toString()}` };
  const tmp = `${out}.${process.pid}`;
  writeFileSync(tmp, r.stdout);
  renameSync(tmp, out);
  return { path: out };
}
