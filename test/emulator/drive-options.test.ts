// QEMU's disk flags on parallax-emu's command line: the spellings QEMU users write, and a clear
// error for every one we would not honour as QEMU does.
import { describe, expect, it } from 'vitest';
import { parseEmuOptions, UsageError } from '../../src/cli/options.js';
import { parseQemuOpts } from '../../src/cli/drive-options.js';

const parse = (...args: string[]) => parseEmuOptions(args, 'k.elf');

describe('-drive / -device virtio-blk-pci / -snapshot', () => {
  it('if=virtio makes a disk; options are QEMU\'s', () => {
    expect(parse('-drive', 'file=d.img,format=raw,if=virtio').drives).toEqual([
      { file: 'd.img', id: undefined, formatGiven: true, readOnly: false, snapshot: false },
    ]);
    const [d] = parse('-drive', 'file=a,,b.img,if=virtio,readonly=on,snapshot=on,cache=writeback').drives!;
    expect(d).toMatchObject({ file: 'a,b.img', readOnly: true, snapshot: true, formatGiven: false });
  });

  it('if=none + -device virtio-blk-pci, in QEMU\'s bus order (-device disks first)', () => {
    const o = parse('-drive', 'file=v.img,if=virtio', '-drive', 'if=none,id=d0,file=n.img', '-device', 'virtio-blk-pci,drive=d0,serial=X',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04');
    expect(o.drives!.map((d) => [d.file, d.serial])).toEqual([['n.img', 'X'], ['v.img', undefined]]);
  });

  it('-snapshot turns snapshot=on for every drive', () => {
    expect(parse('-snapshot', '-drive', 'file=a,if=virtio', '-drive', 'file=b,if=virtio,snapshot=off').drives!.map((d) => d.snapshot)).toEqual([true, true]);
  });

  const bad: [string[], RegExp][] = [
    [['-drive', 'file=d.img'], /no if= means IDE/],
    [['-drive', 'file=d.img,if=ide'], /if=ide is not supported/],
    [['-drive', 'file=d.img,if=virtio,format=qcow2'], /raw images only/],
    [['-drive', 'if=virtio'], /needs file=PATH/],
    [['-drive', 'file=d,if=virtio,readonly=yes'], /must be on or off/],
    [['-drive', 'file=d,if=virtio,cache=none'], /cache=none is not supported/],
    [['-drive', 'file=d,if=virtio,aio=native'], /unknown key 'aio'/],
    [['-drive', 'file=d,if=virtio,serial=S'], /serial= left -drive in QEMU 7/],
    [['-drive', 'file=d,if=none'], /needs id=NAME/],
    [['-drive', 'file=d,if=none,id=d0'], /not attached: add -device virtio-blk-pci,drive=d0/],
    [['-device', 'virtio-blk-pci,drive=nope'], /no -drive with id=nope/],
    [['-device', 'virtio-blk-pci'], /needs drive=ID/],
    [['-device', 'virtio-blk-pci,drive=d0,num-queues=4', '-drive', 'file=d,if=none,id=d0'], /unknown property 'num-queues'/],
    [['-drive', 'file=d,if=none,id=d0', '-device', 'virtio-blk-pci,drive=d0', '-device', 'virtio-blk-pci,drive=d0'], /already attached/],
    [['-drive', 'file=d,if=virtio,id=d0', '-device', 'virtio-blk-pci,drive=d0'], /is if=virtio/],
    [['-drive', 'file=d,if=none,id=d0', '-drive', 'file=e,if=none,id=d0'], /id=d0 given twice/],
    [['-device', 'virtio-net-pci'], /-device virtio-net-pci is not supported/],
  ];
  for (const [args, msg] of bad) {
    it(`refuses ${args.join(' ')}`, () => {
      expect(() => parse(...args)).toThrow(UsageError);
      expect(() => parse(...args)).toThrow(msg);
    });
  }

  it('QEMU option syntax: ",," is a literal comma, a bare first value is the implied key', () => {
    expect(parseQemuOpts('virtio-blk-pci,drive=a,,b', 'driver')).toEqual([['driver', 'virtio-blk-pci'], ['drive', 'a,b']]);
    expect(() => parseQemuOpts('file=a,oops')).toThrow(/not key=value/);
  });
});
