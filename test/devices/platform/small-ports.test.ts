import { describe, expect, it } from 'vitest';
import { DEBUG_PORTS, DebugPorts } from '../../../src/devices/debug-ports.js';
import { I8042 } from '../../../src/devices/i8042.js';
import { DeviceBus } from '../../../src/devices/device-bus.js';

describe('DeviceBus ports', () => {
  it('reads all-ones from unmapped ports and counts', () => {
    const bus = new DeviceBus();
    expect(bus.ioRead(0x2f8, 1)).toBe(0xff);
    expect(bus.ioRead(0x2f8, 2)).toBe(0xffff);
    expect(bus.ioRead(0x2f8, 4)).toBe(0xffffffff);
    bus.ioWrite(0x3e8, 1, 0);
    expect(bus.stats).toMatchObject({ unmappedReads: 3, unmappedWrites: 1, lastUnmappedPort: 0x3e8 });
  });
  it('rejects overlaps and bad ranges', () => {
    const bus = new DeviceBus();
    const d = new DebugPorts();
    bus.attach(d, DEBUG_PORTS);
    expect(() => bus.map(0xf6, 2, new I8042())).toThrow(/overlaps debug-ports at port 0xf6/);
    expect(() => bus.map(0xffff, 2, new I8042())).toThrow(/bad port range/);
    bus.unmap(0xf4, 4);
    expect(bus.deviceAt(0xf4)).toBeUndefined();
  });
});

describe('DebugPorts', () => {
  it('isa-debug-exit, console, POST, A20, reset control', () => {
    const exits: number[] = [];
    const out: number[] = [];
    const resets: string[] = [];
    const bus = new DeviceBus();
    bus.attach(new DebugPorts({ onExit: (s) => exits.push(s), console: (b) => out.push(...b), onReset: (k) => resets.push(k) }), DEBUG_PORTS);
    bus.ioWrite(0xf4, 4, 0x10);
    bus.ioWrite(0xf4, 1, 0);
    expect(exits).toEqual([0x21, 1]);
    bus.ioWrite(0xe9, 1, 0x41);
    expect(out).toEqual([0x41]);
    expect(bus.ioRead(0xe9, 1)).toBe(0xe9);
    bus.ioWrite(0x80, 1, 0x55);
    expect(bus.ioRead(0x92, 1)).toBe(2);
    bus.ioWrite(0x92, 1, 0);
    expect(bus.ioRead(0x92, 1)).toBe(0);
    bus.ioWrite(0x92, 1, 3);
    bus.ioWrite(0xcf9, 1, 0x02);
    expect(bus.ioRead(0xcf9, 1)).toBe(0x02);
    bus.ioWrite(0xcf9, 1, 0x06);
    expect(resets).toEqual(['port92', 'cf9-hard']);
  });
});

describe('I8042', () => {
  it('status never shows input-buffer-full; self-test answers 0x55', () => {
    const k = new I8042();
    expect(k.ioRead(0x64, 1) & 0x03).toBe(0);
    k.ioWrite(0x64, 1, 0xaa);
    expect(k.ioRead(0x64, 1) & 0x03).toBe(1);
    expect(k.ioRead(0x60, 1)).toBe(0x55);
    expect(k.ioRead(0x64, 1) & 0x01).toBe(0);
  });
  it('output port A20 and the reset pulse', () => {
    const a20: boolean[] = [];
    let resets = 0;
    const k = new I8042({ onA20: (e) => a20.push(e), onReset: () => resets++ });
    k.ioWrite(0x64, 1, 0xd1);
    k.ioWrite(0x60, 1, 0xdd);
    expect(a20).toEqual([false]);
    k.ioWrite(0x64, 1, 0xd0);
    expect(k.ioRead(0x60, 1)).toBe(0xdd);
    k.ioWrite(0x64, 1, 0xdf);
    expect(k.a20).toBe(true);
    k.ioWrite(0x64, 1, 0xfe);
    expect(resets).toBe(1);
  });
  it('command byte round trip and IRQ1 on replies', () => {
    const levels: boolean[] = [];
    const k = new I8042({}, { setLevel: (l) => levels.push(l) });
    k.ioWrite(0x64, 1, 0x60);
    k.ioWrite(0x60, 1, 0x45);
    k.ioWrite(0x64, 1, 0x20);
    expect(k.ioRead(0x60, 1)).toBe(0x45);
    expect(levels).toEqual([true, false]);
    const s = k.saveState();
    const k2 = new I8042();
    k2.restoreState(JSON.parse(JSON.stringify(s)));
    k2.ioWrite(0x64, 1, 0x20);
    expect(k2.ioRead(0x60, 1)).toBe(0x45);
  });
});
