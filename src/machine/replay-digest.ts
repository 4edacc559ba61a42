// The replay check of -icount (docs/ARCHITECTURE.md, "Time"): what a run produced, reduced to
// digests that two runs of the same image, arguments and input must share: the console
// transcript, the frames as a pcap file holds them (records with virtual-time stamps), and the
// instructions retired at exit. `--stats` prints them.

import { createHash, type Hash } from 'node:crypto';

export class ReplayDigest {
  private readonly consoleHash: Hash = createHash('sha256');
  private readonly framesHash: Hash = createHash('sha256');
  consoleBytes = 0;
  frames = 0;

  /** bytes the guest wrote on its console */
  console(bytes: Uint8Array): void {
    this.consoleHash.update(bytes);
    this.consoleBytes += bytes.length;
  }

  /** one pcap record exactly as written (16-byte record header + frame bytes) */
  frameRecord(record: Uint8Array): void {
    this.framesHash.update(record);
    this.frames++;
  }

  /** the digest lines; `instructions` is the total retired by all cores */
  lines(instructions: number, guestNs: number): string[] {
    const c = this.consoleHash.copy().digest('hex');
    const f = this.framesHash.copy().digest('hex');
    const all = createHash('sha256').update(`${c} ${f} ${instructions}`).digest('hex');
    return [
      `replay digest ${all.slice(0, 16)}: console ${c.slice(0, 16)} (${this.consoleBytes} bytes), ` +
        `frames ${f.slice(0, 16)} (${this.frames}), instructions ${instructions}, guest time ${guestNs} ns`,
    ];
  }
}
