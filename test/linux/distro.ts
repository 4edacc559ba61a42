// Locating the Debian packages the Linux/memtest86+ proofs use (installed by .ci/run:
// linux-image-amd64, busybox-static, memtest86+), and the skip-or-fail rule for when they are
// missing: skip with a printed reason locally, fail with CI set.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** Debian's newest kernel in /boot (vmlinuz-<version>), or undefined. */
export function debianKernel(): string | undefined {
  if (!existsSync('/boot')) return undefined;
  const k = readdirSync('/boot').filter((f) => /^vmlinuz-.*amd64$/.test(f)).sort();
  return k.length ? `/boot/${k[k.length - 1]}` : undefined;
}

/** A statically linked busybox (busybox-static replaces /bin/busybox), or undefined. */
export function staticBusybox(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) {
    if (!existsSync(p)) continue;
    const b = readFileSync(p);
    // a dynamic executable names its interpreter: /lib64/ld-linux-x86-64.so.2
    if (!b.includes(Buffer.from('/lib64/ld-linux'))) return p;
  }
  return undefined;
}

export const MEMTEST_IMAGE = '/boot/memtest86+x64.bin';

export function missingReason(what: string[]): string {
  return `missing ${what.join(', ')} (Debian: apt-get install -y linux-image-amd64 busybox-static memtest86+; .ci/run installs them)`;
}
