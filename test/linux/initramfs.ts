// The initramfs the Linux boot test uses: a static busybox, /dev/console, and an /init script
// that prints a marker line and powers the machine off (ACPI S5 through the kernel's
// acpi_power_off). Built in memory from the distribution's busybox-static binary.

import { readFileSync } from 'node:fs';
import { cpioNewc, S_IFCHR, S_IFDIR, S_IFREG, type CpioEntry } from './cpio-newc.js';

export const LINUX_MARKER = 'PARALLAX-LINUX-USERSPACE-OK';

/** `extra`: more files (kernel modules, ...) after the fixed ones. */
export function busyboxInitramfs(busyboxPath: string, initScript: string, extra: CpioEntry[] = []): Uint8Array {
  const enc = new TextEncoder();
  return cpioNewc([
    { name: 'bin', mode: S_IFDIR | 0o755 },
    { name: 'bin/busybox', mode: S_IFREG | 0o755, data: new Uint8Array(readFileSync(busyboxPath)) },
    { name: 'dev', mode: S_IFDIR | 0o755 },
    { name: 'dev/console', mode: S_IFCHR | 0o600, rdev: { major: 5, minor: 1 } },
    { name: 'proc', mode: S_IFDIR | 0o755 },
    { name: 'init', mode: S_IFREG | 0o755, data: enc.encode(initScript) },
    ...extra,
  ]);
}

/** /init: cores online as the kernel counts them, the marker, then power off */
export function markerInit(): string {
  return [
    '#!/bin/busybox sh',
    '/bin/busybox mount -t proc proc /proc',
    `/bin/busybox echo "${LINUX_MARKER} cpus=$(/bin/busybox grep -c ^processor /proc/cpuinfo)"`,
    '/bin/busybox poweroff -f',
    '',
  ].join('\n');
}
