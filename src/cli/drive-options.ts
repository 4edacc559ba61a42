// QEMU's disk flags as parallax-emu takes them:
//   -drive file=disk.img,format=raw,if=virtio[,id=ID][,snapshot=on][,readonly=on]
//   -drive if=none,id=d0,file=disk.img[,...]  +  -device virtio-blk-pci,drive=d0[,id=..][,serial=..]
//   -snapshot (every drive snapshot=on)
// Values use QEMU's option syntax (`,,` is a literal comma). Anything we would not do as QEMU
// does is refused with the reason: other interfaces (if=ide is QEMU's default on `pc`), other
// formats, cache modes other than the one we implement, unknown keys, dangling drive names.

import type { DriveSpec } from '../machine/server.js';

/** A bad disk flag; options.ts turns it into its UsageError. */
export class DriveOptionError extends Error {}

const DRIVE_KEYS = ['file', 'format', 'if', 'id', 'snapshot', 'readonly', 'media', 'cache'];
const DEVICE_KEYS = ['drive', 'id', 'serial'];
export const VIRTIO_BLK_DEVICES = ['virtio-blk-pci', 'virtio-blk'];

/** QEMU's key=value,key=value with ",," as a literal comma; `implied` names a leading bare value. */
export function parseQemuOpts(text: string, implied?: string): [string, string][] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === ',' && text[i + 1] === ',') { cur += ','; i++; continue; }
    if (text[i] === ',') { parts.push(cur); cur = ''; continue; }
    cur += text[i];
  }
  parts.push(cur);
  return parts.map((p, i) => {
    const eq = p.indexOf('=');
    if (eq < 0) {
      if (i === 0 && implied) return [implied, p];
      throw new DriveOptionError(`'${p}' in '${text}' is not key=value`);
    }
    return [p.slice(0, eq), p.slice(eq + 1)];
  });
}

function onOff(flag: string, key: string, v: string): boolean {
  if (v === 'on') return true;
  if (v === 'off') return false;
  throw new DriveOptionError(`${flag}: ${key}=${v} must be on or off`);
}

interface ParsedDrive extends DriveSpec {
  iface: 'virtio' | 'none';
}

function parseDrive(text: string, snapshotAll: boolean): ParsedDrive {
  const flag = `-drive ${text}`;
  const kv = new Map<string, string>();
  for (const [k, v] of parseQemuOpts(text)) {
    if (k === 'serial') throw new DriveOptionError(`${flag}: serial= left -drive in QEMU 7 (as here): give it to the device, -device virtio-blk-pci,drive=ID,serial=...`);
    if (!DRIVE_KEYS.includes(k)) throw new DriveOptionError(`${flag}: unknown key '${k}' (accepted: ${DRIVE_KEYS.join(', ')})`);
    if (kv.has(k)) throw new DriveOptionError(`${flag}: '${k}' given twice`);
    kv.set(k, v);
  }
  const file = kv.get('file');
  if (!file) throw new DriveOptionError(`${flag}: needs file=PATH (a raw disk image)`);
  const iface = kv.get('if');
  if (iface === undefined) {
    throw new DriveOptionError(`${flag}: no if= means IDE on QEMU's pc machine, which parallax-emu does not have; add if=virtio (or if=none,id=ID with -device virtio-blk-pci,drive=ID)`);
  }
  if (iface !== 'virtio' && iface !== 'none') throw new DriveOptionError(`${flag}: if=${iface} is not supported (virtio, or none with -device virtio-blk-pci)`);
  const format = kv.get('format');
  if (format !== undefined && format !== 'raw') throw new DriveOptionError(`${flag}: format=${format} is not supported: raw images only (qemu-img convert -O raw converts one)`);
  const media = kv.get('media');
  if (media !== undefined && media !== 'disk') throw new DriveOptionError(`${flag}: media=${media} is not supported (disk only)`);
  const cache = kv.get('cache');
  if (cache !== undefined && cache !== 'writeback') {
    throw new DriveOptionError(`${flag}: cache=${cache} is not supported: writes go to the host's page cache and a guest flush is an fsync (QEMU's cache=writeback)`);
  }
  const id = kv.get('id');
  if (iface === 'none' && !id) throw new DriveOptionError(`${flag}: if=none needs id=NAME for -device virtio-blk-pci,drive=NAME`);
  return {
    iface, file, id, formatGiven: format !== undefined,
    readOnly: kv.has('readonly') ? onOff(flag, 'readonly', kv.get('readonly')!) : false,
    snapshot: snapshotAll || (kv.has('snapshot') ? onOff(flag, 'snapshot', kv.get('snapshot')!) : false),
  };
}

/**
 * The virtio disks of -drive/-device/-snapshot, in QEMU's PCI order (-device ones, then the
 * if=virtio drives). `devices` holds only the -device values naming virtio-blk.
 */
export function parseDrives(drives: string[], devices: string[], snapshotAll: boolean): DriveSpec[] {
  const parsed = drives.map((d) => parseDrive(d, snapshotAll));
  const byId = new Map<string, ParsedDrive>();
  for (const d of parsed) {
    if (d.id === undefined) continue;
    if (byId.has(d.id)) throw new DriveOptionError(`-drive id=${d.id} given twice`);
    byId.set(d.id, d);
  }
  const out: DriveSpec[] = [];
  const used = new Set<string>();
  for (const text of devices) {
    const opts = parseQemuOpts(text, 'driver');
    const kv = new Map<string, string>();
    for (const [k, v] of opts.slice(1)) {
      if (!DEVICE_KEYS.includes(k)) throw new DriveOptionError(`-device ${text}: unknown property '${k}' (accepted: ${DEVICE_KEYS.join(', ')})`);
      kv.set(k, v);
    }
    const name = kv.get('drive');
    if (!name) throw new DriveOptionError(`-device ${text}: needs drive=ID of a -drive if=none,id=ID`);
    const d = byId.get(name);
    if (!d) throw new DriveOptionError(`-device ${text}: no -drive with id=${name}`);
    if (d.iface !== 'none') throw new DriveOptionError(`-device ${text}: drive ${name} is if=${d.iface}, already a disk of its own (use if=none)`);
    if (used.has(name)) throw new DriveOptionError(`-device ${text}: drive ${name} is already attached to another device`);
    used.add(name);
    const { iface: _, ...spec } = d;
    out.push({ ...spec, serial: kv.get('serial') });
  }
  // QEMU makes the devices of if=virtio drives after every -device (they are added to the
  // device list when the drives are opened), so those come later on the bus and in Linux's names
  out.push(...parsed.filter((d) => d.iface === 'virtio').map(({ iface: _, ...d }) => d));
  for (const d of parsed) {
    if (d.iface === 'none' && !used.has(d.id!)) throw new DriveOptionError(`-drive id=${d.id} (if=none) is not attached: add -device virtio-blk-pci,drive=${d.id}`);
  }
  return out;
}

/** Whether a -device value asks for a virtio disk (the rest are checked as fixed QEMU flags). */
export function isVirtioBlkDevice(text: string): boolean {
  return VIRTIO_BLK_DEVICES.includes(text.split(',')[0]);
}
