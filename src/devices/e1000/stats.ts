// The NIC's and its backend's counters as text lines, for `parallax-emu --stats` at exit:
// every frame dropped on the way in or out is counted somewhere, and these lines show where.
import type { E1000 } from './e1000.js';
import { formatMac } from '../../net/mac.js';
import type { NetBackend } from '../../net/net-backend.js';

export function nicStatsLines(index: number, nic: E1000, backend: NetBackend): string[] {
  const c = nic.counters;
  const b = backend.stats;
  return [
    `nic ${index} (e1000 ${formatMac(nic.mac)}): rx ${c.rxFrames} frames/${c.rxBytes} B, tx ${c.txFrames} frames/${c.txBytes} B, ` +
      `${c.interrupts} interrupts`,
    `nic ${index} rx drops: runts ${c.rxRunts}, oversize ${c.rxOversize}, ring full ${c.rxMissed} (${c.rxQueued} waited), ` +
      `filtered ${c.rxFiltered}, receiver off ${c.rxDisabled}`,
    `nic ${index} tx drops: runts ${c.txRunts}, oversize ${c.txOversize}, bad descriptors ${c.txBadDescriptors}, bad TSO ${c.txTsoBad}; ` +
      `bad rings ${c.badRing}, DMA blocked ${c.dmaBlocked}`,
    `nic ${index} backend ${backend.description}: rx ${b.rxFrames} frames, tx ${b.txFrames} frames, tx dropped ${b.txDropped}, ` +
      `rx runts ${b.rxRunts}, rx oversize ${b.rxOversize}, rx dropped ${b.rxDropped}, malformed ${b.malformed}, ` +
      `connects ${b.connects}, disconnects ${b.disconnects}`,
  ];
}
