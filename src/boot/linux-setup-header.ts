// The Linux/x86 boot protocol's setup header (Documentation/arch/x86/boot.rst): found at file
// offset 0x1F1 of a bzImage (Debian's vmlinuz, memtest86+'s memtest86+x64.bin), identified by
// "HdrS" at 0x202. The real-mode setup occupies (setup_sects + 1) sectors of 512 bytes; the
// protected-mode kernel follows. We use the 64-bit entry point (load address + 0x200), which
// needs protocol 2.12 or later with XLF_KERNEL_64, because this machine has no BIOS to run the
// real-mode setup code with.

import { BootError, hex } from './boot-error.js';

export const SETUP_HEADER_OFFSET = 0x1f1;
const HDRS = 0x53726448; // "HdrS"
/** xloadflags: the kernel has the 64-bit entry at load address + 0x200 */
export const XLF_KERNEL_64 = 1 << 0;
/** loadflags bit 0: the protected-mode kernel is loaded at 0x100000 */
export const LOADED_HIGH = 1 << 0;
/** 64-bit entry offset from the protected-mode kernel's load address */
export const ENTRY_64_OFFSET = 0x200;
/** type_of_loader QEMU writes (0xB: "Qemu", version 0) */
export const LOADER_TYPE_QEMU = 0xb0;

export interface LinuxSetupHeader {
  /** boot protocol version, e.g. 0x020f */
  version: number;
  setupSects: number;
  loadflags: number;
  xloadflags: number;
  code32Start: number;
  /** highest address the initrd may end at (inclusive), 0x37FFFFFF before 2.03 */
  initrdAddrMax: number;
  kernelAlignment: number;
  relocatable: boolean;
  /** longest command line without the NUL (255 before 2.06) */
  cmdlineSize: number;
  /** where the kernel wants to run (LOAD_PHYSICAL_ADDR), 0 before 2.10 */
  prefAddress: number;
  /** linear memory from the run address the kernel needs before it reads the memory map */
  initSize: number;
  /** file offset of the protected-mode kernel */
  kernelOffset: number;
  /** end of the setup header in the file (0x202 + the byte at 0x201) */
  headerEnd: number;
}

export function hasLinuxSetupHeader(data: Uint8Array): boolean {
  if (data.length < 0x206) return false;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return dv.getUint32(0x202, true) === HDRS;
}

export function parseLinuxSetupHeader(data: Uint8Array): LinuxSetupHeader {
  if (!hasLinuxSetupHeader(data)) throw new BootError('not a Linux bzImage: no "HdrS" at offset 0x202');
  if (data.length < 0x270) throw new BootError(`truncated bzImage: ${data.length} bytes, the setup header needs 0x270`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const version = dv.getUint16(0x206, true);
  const setupSects = data[0x1f1] === 0 ? 4 : data[0x1f1];
  const kernelOffset = (setupSects + 1) * 512;
  const vtext = `${version >> 8}.${(version & 0xff).toString().padStart(2, '0')}`;
  if (version < 0x020c) {
    throw new BootError(`Linux boot protocol ${vtext} has no 64-bit entry (needs 2.12+); this machine has no BIOS to run the real-mode setup`);
  }
  const xloadflags = dv.getUint16(0x236, true);
  if ((xloadflags & XLF_KERNEL_64) === 0) throw new BootError('bzImage without a 64-bit entry point (xloadflags bit 0 clear): a 32-bit kernel needs the real-mode or 32-bit protocol, which this loader does not offer');
  const loadflags = data[0x211];
  if ((loadflags & LOADED_HIGH) === 0) throw new BootError('zImage (loaded at 0x10000) is not supported: only bzImage kernels');
  if (kernelOffset >= data.length) throw new BootError(`truncated bzImage: setup is ${setupSects} sectors (${hex(kernelOffset)} bytes) but the file is ${hex(data.length)} bytes`);
  const headerEnd = Math.min(0x202 + data[0x201], 0x1000);
  return {
    version,
    setupSects,
    loadflags,
    xloadflags,
    code32Start: dv.getUint32(0x214, true),
    initrdAddrMax: dv.getUint32(0x22c, true),
    kernelAlignment: dv.getUint32(0x230, true),
    relocatable: data[0x234] !== 0,
    cmdlineSize: version >= 0x0206 ? dv.getUint32(0x238, true) : 255,
    prefAddress: Number(dv.getBigUint64(0x258, true) & 0xffffffffn),
    initSize: dv.getUint32(0x260, true),
    kernelOffset,
    headerEnd,
  };
}
