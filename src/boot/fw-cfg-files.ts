// The fw_cfg files a machine derives from a boot plan (`etc/e820`, `etc/acpi/rsdp`,
// `etc/acpi/tables`), ready to spread into `new FwCfg({ ncores, ramBytes, ...fwCfgFiles(plan) })`.

import type { BootPlan } from './boot-plan.js';
import { e820Bytes } from './e820.js';

export function fwCfgFiles(plan: Pick<BootPlan, 'memoryMap' | 'acpi'>): { e820: Uint8Array; acpiRsdp: Uint8Array; acpiTables: Uint8Array } {
  return { e820: e820Bytes(plan.memoryMap), acpiRsdp: plan.acpi.rsdp, acpiTables: plan.acpi.tables };
}
