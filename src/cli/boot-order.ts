// QEMU's `-boot` option: `[order=]DRIVES[,once=DRIVES][,menu=on|off][,strict=on|off]...`, where
// a DRIVES letter is a (floppy), c (disk), d (CD-ROM) or n..p (network). What parallax-emu makes
// of it: the first drive to try (`once` first, as QEMU) is the network -> network boot with our
// firmware (docs/BOOT.md, "Network boot"); the disk first (c) is what the board does anyway
// (the CMOS order SeaBIOS reads is QEMU's default, disk first); a floppy or CD-ROM first is
// refused, since neither drive exists.

export class BootOrderError extends Error {}

export interface BootOrder {
  /** the drive letters in the order given (`once` wins for the first boot) */
  drives: string;
  /** the first drive is the network */
  network: boolean;
}

const DRIVE = /^[acdnop]+$/;
const SWITCHES = new Set(['menu', 'strict', 'splash', 'splash-time', 'reboot-timeout']);

export function parseBootOrder(spec: string): BootOrder {
  let order = '';
  let once = '';
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0 && order === '' && part !== '') { order = part; continue; }
    const key = part.slice(0, eq), value = part.slice(eq + 1);
    if (key === 'order') order = value;
    else if (key === 'once') once = value;
    else if (!SWITCHES.has(key)) throw new BootOrderError(`-boot ${spec}: unknown part '${part}' (accepted: [order=]DRIVES, once=DRIVES, menu=, strict=, splash=, splash-time=, reboot-timeout=)`);
  }
  const drives = once || order;
  if (drives === '') throw new BootOrderError(`-boot ${spec}: no drives (e.g. -boot n for network boot)`);
  for (const d of [order, once]) {
    if (d !== '' && !DRIVE.test(d)) throw new BootOrderError(`-boot ${spec}: drive letters are a, c, d or n-p`);
  }
  if (drives[0] === 'a' || drives[0] === 'd') throw new BootOrderError(`-boot ${spec}: there is no ${drives[0] === 'a' ? 'floppy' : 'CD-ROM'} drive to boot first (accepted first drives: c, n)`);
  return { drives, network: 'nop'.includes(drives[0]) };
}
