// Receive address filtering of the 8254x: which frames the receiver accepts, from RCTL and
// the address tables. Order: promiscuous modes (UPE, MPE), broadcast (BAM), exact match in
// the 16 receive-address registers (RAL/RAH with AV), then the 4096-bit multicast table (MTA)
// indexed by 12 bits of the destination address chosen by RCTL.MO. Then, with RCTL.VFE, a
// VLAN-tagged frame must have its VLAN ID set in the VLAN filter table (VFTA).

import {
  MTA, RA_COUNT, RAH0, RAH_AV, RAL0, RCTL, RCTL_BAM, RCTL_MO_SHIFT, RCTL_MPE, RCTL_UPE, RCTL_VFE, VET, VFTA,
} from './regs.js';

/** The 12-bit multicast table index of a destination address for a given RCTL.MO. */
export function mtaHash(frame: Uint8Array, mo: number): number {
  const a4 = frame[4];
  const a5 = frame[5];
  switch (mo & 3) {
    case 0: return ((a4 >>> 4) | (a5 << 4)) & 0xfff;
    case 1: return ((a4 >>> 3) | (a5 << 5)) & 0xfff;
    case 2: return ((a4 >>> 2) | (a5 << 6)) & 0xfff;
    default: return (a4 | (a5 << 8)) & 0xfff;
  }
}

export type FilterVerdict = 'unicast' | 'multicast' | 'broadcast' | 'rejected' | 'vlan-rejected';

/** `regs` is the register file indexed by byte offset / 4. */
export function filterFrame(regs: Uint32Array, frame: Uint8Array): FilterVerdict {
  const rctl = regs[RCTL >> 2];
  const multicast = (frame[0] & 1) !== 0;
  const broadcast = multicast && frame[0] === 0xff && frame[1] === 0xff && frame[2] === 0xff &&
    frame[3] === 0xff && frame[4] === 0xff && frame[5] === 0xff;
  const kind: FilterVerdict = broadcast ? 'broadcast' : multicast ? 'multicast' : 'unicast';
  if (!addressAccepted(regs, rctl, frame, multicast, broadcast)) return 'rejected';
  if ((rctl & RCTL_VFE) && !vlanAccepted(regs, frame)) return 'vlan-rejected';
  return kind;
}

function addressAccepted(regs: Uint32Array, rctl: number, frame: Uint8Array, multicast: boolean, broadcast: boolean): boolean {
  if (!multicast && (rctl & RCTL_UPE)) return true;
  if (multicast && (rctl & RCTL_MPE)) return true;
  if (broadcast && (rctl & RCTL_BAM)) return true;
  const lo = (frame[0] | (frame[1] << 8) | (frame[2] << 16) | (frame[3] << 24)) >>> 0;
  const hi = frame[4] | (frame[5] << 8);
  for (let i = 0; i < RA_COUNT; i++) {
    const rah = regs[(RAH0 >> 2) + 2 * i];
    if (!(rah & RAH_AV)) continue;
    if (regs[(RAL0 >> 2) + 2 * i] === lo && (rah & 0xffff) === hi) return true;
  }
  if (!multicast) return false;
  const h = mtaHash(frame, (rctl >>> RCTL_MO_SHIFT) & 3);
  return ((regs[(MTA >> 2) + (h >>> 5)] >>> (h & 31)) & 1) !== 0;
}

function vlanAccepted(regs: Uint32Array, frame: Uint8Array): boolean {
  const tpid = (frame[12] << 8) | frame[13];
  if (tpid !== (regs[VET >> 2] & 0xffff)) return true; // untagged frames are not VLAN-filtered
  const vid = ((frame[14] << 8) | frame[15]) & 0xfff;
  return ((regs[(VFTA >> 2) + (vid >>> 5)] >>> (vid & 31)) & 1) !== 0;
}
