import { describe, expect, it } from 'vitest';
import { basicMemInfo, buildE820 } from '../../src/boot/e820.js';
import { fwCfgFiles } from '../../src/boot/fw-cfg-files.js';
import { loadKernel } from '../../src/boot/loader.js';
import { FwCfg } from '../../src/devices/fw-cfg.js';
import { ramLayout } from '../../src/abi/memory-map.js';
import { buildElf, concat, mb1Header } from './image-builder.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

describe('e820 map', () => {
  it('RAM above 3 GiB is reported from 4 GiB up', () => {
    const l = ramLayout(5 * GiB);
    const map = buildE820(l);
    expect(map).toEqual([
      { base: 0, length: 0x9fc00, type: 1 },
      { base: 0x9fc00, length: 0x400, type: 2 },
      { base: 0xf0000, length: 0x10000, type: 2 },
      { base: 0x100000, length: 3 * GiB - MiB - 0x20000, type: 1 },
      { base: 3 * GiB - 0x20000, length: 0x20000, type: 2 },
      { base: 0xfffc0000, length: 0x40000, type: 2 },
      { base: 4 * GiB, length: 2 * GiB, type: 1 },
    ]);
    expect(basicMemInfo(map)).toEqual({ memLowerKiB: 639, memUpperKiB: (3 * GiB - MiB - 0x20000) / 1024 });
  });

  it('refuses RAM too small for the platform', () => {
    expect(() => buildE820(ramLayout(MiB))).toThrow('RAM too small: 1048576 bytes, need at least 2097152');
  });
});

describe('fw_cfg files from a boot plan', () => {
  it('etc/e820 and the ACPI files read back through the data port', () => {
    const layout = ramLayout(64 * MiB);
    const ram = new Uint8Array(layout.ramBytes);
    const k = buildElf(32, 0x100000, [{ paddr: 0x100000, data: concat(mb1Header(), new Uint8Array(16)) }]);
    const plan = loadKernel({ kernel: k, kernelPath: 'k', ram, layout, ncores: 3 });
    const fw = new FwCfg({ ncores: 3, ramBytes: layout.ramBytes, ...fwCfgFiles(plan) });
    const read = (key: number, n: number) => {
      fw.ioWrite(0x510, 2, key);
      return Uint8Array.from({ length: n }, () => fw.ioRead(0x511, 1));
    };
    const e820 = read(0x23, plan.memoryMap.length * 20);
    const dv = new DataView(e820.buffer);
    expect(plan.memoryMap.map((e, i) => [Number(dv.getBigUint64(i * 20, true)), Number(dv.getBigUint64(i * 20 + 8, true)), dv.getUint32(i * 20 + 16, true)]))
      .toEqual(plan.memoryMap.map((e) => [e.base, e.length, e.type]));
    expect(read(0x21, 36)).toEqual(plan.acpi.rsdp);
    const tables = read(0x22, plan.acpi.tables.length);
    expect(tables).toEqual(plan.acpi.tables);
    // what the guest reads equals what the loader placed in RAM
    expect(ram.subarray(plan.acpi.tablesBase, plan.acpi.tablesBase + tables.length)).toEqual(tables);
    expect(ram.subarray(0xf0000, 0xf0000 + 36)).toEqual(plan.acpi.rsdp);
    expect(read(5, 2)).toEqual(Uint8Array.of(3, 0));
  });
});
