// The VM generation counter (the idea of Microsoft's and QEMU's "vmgenid" device, made simple):
// an 8-byte word in reserved low memory that is 0 after a boot and takes a new random value
// every time the machine is restored from a snapshot. The guest learns its address from the
// fw_cfg file opt/parallax/vmgenid (8 bytes, little-endian) and compares the word with the value
// it last saw: a change means "this memory was restored; values that must never repeat
// (the DIME kernel's epoch and sequence numbers, random seeds) must be renewed".

import { randomBytes } from 'node:crypto';

/** Guest-physical address of the counter: in the reserved 0xF0000-0xFFFFF BIOS area (e820 type 2). */
export const VMGENID_ADDR = 0xff000;
export const VMGENID_FW_CFG_NAME = 'opt/parallax/vmgenid';

/** The fw_cfg file that tells the guest where the counter is. */
export function vmGenerationFile(): { name: string; data: Uint8Array } {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setBigUint64(0, BigInt(VMGENID_ADDR), true);
  return { name: VMGENID_FW_CFG_NAME, data };
}

/** Give the restored machine a new generation (random, never 0). */
export function bumpVmGeneration(ram: Uint8Array): bigint {
  let v = 0n;
  while (v === 0n) v = randomBytes(8).readBigUInt64LE(0);
  new DataView(ram.buffer, ram.byteOffset + VMGENID_ADDR, 8).setBigUint64(0, v, true);
  return v;
}
