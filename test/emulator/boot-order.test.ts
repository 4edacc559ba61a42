// -boot (QEMU's spelling) as parallax-emu reads it: which first drive means network boot, and
// which combinations are refused with the reason (docs/BOOT.md, "Network boot").
import { describe, it, expect } from 'vitest';
import { parseBootOrder } from '../../src/cli/boot-order.js';
import { parseEmuOptions } from '../../src/cli/options.js';

const parse = (...args: string[]) => parseEmuOptions(args, 'k.elf');

describe('-boot', () => {
  it('reads QEMU boot orders: the first drive (once= before order=) decides', () => {
    expect(parseBootOrder('n')).toEqual({ drives: 'n', network: true });
    expect(parseBootOrder('order=nc,menu=off')).toEqual({ drives: 'nc', network: true });
    expect(parseBootOrder('order=c,once=n')).toEqual({ drives: 'n', network: true });
    expect(parseBootOrder('cn')).toEqual({ drives: 'cn', network: false });
    expect(() => parseBootOrder('d')).toThrow(/no CD-ROM/);
    expect(() => parseBootOrder('a')).toThrow(/no floppy/);
    expect(() => parseBootOrder('x')).toThrow(/drive letters/);
    expect(() => parseBootOrder('order=n,bogus=1')).toThrow(/unknown part 'bogus=1'/);
    expect(() => parseBootOrder('menu=on')).toThrow(/no drives/);
  });

  it('-boot n boots the firmware: needs --net, refuses --kernel/--append/--initrd and -bios', () => {
    expect(parse('-boot', 'n', '--net', 'hub,path=/tmp/x.sock').netBoot).toBe(true);
    expect(parse('-boot', 'c').netBoot).toBe(false);
    expect(parse('--cores', '2').netBoot).toBe(false);
    expect(() => parse('-boot', 'n')).toThrow(/needs a LAN/);
    expect(() => parse('-boot', 'n', '--net', 'hub,path=/tmp/x.sock', '--kernel', 'x.elf')).toThrow(/cannot be combined with --kernel/);
    expect(() => parse('-boot', 'n', '--net', 'hub,path=/tmp/x.sock', '--append', 'a')).toThrow(/cannot be combined/);
    expect(() => parse('-boot', 'n', '-bios', 'bios.bin')).toThrow(/PXE option ROM/);
  });
});
