import { describe, expect, it } from 'vitest';
import { AcpiPm, PM_TIMER_HZ } from '../../../src/devices/acpi-pm.js';
import { buildAcpiTables, PM_TMR_PORT, PM1A_CNT_PORT } from '../../../src/boot/acpi-tables.js';
import type { TimerService } from '../../../src/devices/types.js';

class FakeTimers implements TimerService {
  now = 0;
  scheduled = new Map<string, { at: number; fn: () => void }>();
  nowNs(): number { return this.now; }
  schedule(key: string, atNs: number, fn: () => void): void { this.scheduled.set(key, { at: atNs, fn }); }
  cancel(key: string): void { this.scheduled.delete(key); }
}

function setup() {
  const timers = new FakeTimers();
  const sci: boolean[] = [];
  const events: string[] = [];
  const pm = new AcpiPm(0x600, timers, { setLevel: (l) => sci.push(l) }, {
    s5SlpTyp: 0, onPowerOff: () => events.push('S5'), onUnsupportedSleep: (t) => events.push(`sleep ${t}`),
  });
  return { timers, sci, events, pm };
}

describe('ACPI PM block (PIIX4 at 0x600)', () => {
  it('the FADT points at the ports the device decodes and says 24 bits (TMR_VAL_EXT clear), as QEMU', () => {
    const acpi = buildAcpiTables({ ncores: 1, tablesBase: 0x7fe0000, rsdpAddress: 0xf0000 });
    const fadt = acpi.tables.subarray(acpi.addresses.FACP - acpi.tablesBase);
    const dv = new DataView(fadt.buffer, fadt.byteOffset);
    expect(dv.getUint32(64, true)).toBe(PM1A_CNT_PORT);
    expect(dv.getUint32(76, true)).toBe(PM_TMR_PORT);
    expect(PM_TMR_PORT).toBe(0x608);
    expect(fadt[91]).toBe(4); // PM_TMR_LEN
    expect(dv.getUint32(112, true) & (1 << 8)).toBe(0);
  });

  it('PM_TMR counts guest time at 3.579545 MHz and wraps at 2^24', () => {
    const { timers, pm } = setup();
    expect(pm.ioRead(0x608, 4)).toBe(0);
    timers.now = 1e9; // one second
    expect(pm.ioRead(0x608, 4)).toBe(PM_TIMER_HZ);
    timers.now = 10e9;
    expect(pm.ioRead(0x608, 4)).toBe((10 * PM_TIMER_HZ) % 2 ** 24);
    timers.now = 1000 * 1e9 + 123; // exact far from boot
    expect(pm.ticks()).toBe(1000 * PM_TIMER_HZ);
    // monotonic between wraps, never above 24 bits
    let last = -1;
    for (let ns = 0; ns < 4e9; ns += 3.3e7) {
      timers.now = ns;
      const v = pm.ioRead(0x608, 4);
      expect(v).toBeLessThan(2 ** 24);
      if (ns < 4.6e9 && last >= 0) expect(v).toBeGreaterThanOrEqual(last);
      last = v;
    }
  });

  it('SCI_EN reads 1; TMR_STS sets on bit 23 toggles and is cleared by writing 1; TMR_EN raises the SCI', () => {
    const { timers, sci, pm } = setup();
    expect(pm.ioRead(0x604, 2) & 1).toBe(1);
    expect(pm.ioRead(0x600, 2) & 1).toBe(0);
    timers.now = Math.ceil((2 ** 23 / PM_TIMER_HZ) * 1e9) + 1;
    expect(pm.ioRead(0x600, 2) & 1).toBe(1);
    pm.ioWrite(0x600, 2, 1);
    expect(pm.ioRead(0x600, 2) & 1).toBe(0);
    pm.ioWrite(0x602, 2, 1); // TMR_EN
    expect(sci.at(-1)).toBe(false);
    const wake = timers.scheduled.get('acpi-pm-timer')!;
    expect(wake.at).toBe(Math.ceil((2 ** 24 / PM_TIMER_HZ) * 1e9));
    timers.now = wake.at;
    wake.fn();
    expect(sci.at(-1)).toBe(true);
    pm.ioWrite(0x600, 2, 1);
    expect(sci.at(-1)).toBe(false);
  });

  it('SLP_EN with SLP_TYP 0 (\\_S5) powers off; other sleep types are reported, not ignored', () => {
    const { events, pm } = setup();
    pm.ioWrite(0x604, 2, 0x0001); // SCI_EN only: nothing
    pm.ioWrite(0x604, 2, 5 << 10); // SLP_TYP without SLP_EN: nothing
    expect(events).toEqual([]);
    pm.ioWrite(0x604, 2, (0 << 10) | (1 << 13));
    expect(events).toEqual(['S5']);
    pm.ioWrite(0x604, 2, (1 << 10) | (1 << 13)); // S3 on QEMU's PIIX4
    expect(events).toEqual(['S5', 'sleep 1']);
    expect(pm.ioRead(0x604, 2) & (1 << 13)).toBe(0); // SLP_EN is write-only
    pm.ioWrite(0x605, 1, 0x20); // byte write of the high half with SLP_EN
    expect(events.at(-1)).toBe('S5');
  });
});
