// A cpio "newc" archive writer (the initramfs format Linux unpacks: 110-byte ASCII header of
// hex fields, name, data, each padded to 4 bytes, ended by TRAILER!!!). Written here so the
// test needs no cpio tool and can make device nodes (/dev/console) without root.

export interface CpioEntry {
  name: string;
  /** full st_mode: type bits | permissions (0o100755 file, 0o40755 dir, 0o20600 char device) */
  mode: number;
  data?: Uint8Array;
  /** device number of a device node */
  rdev?: { major: number; minor: number };
}

export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;

const hex8 = (v: number) => (v >>> 0).toString(16).padStart(8, '0');
const pad4 = (n: number) => (4 - (n % 4)) % 4;

export function cpioNewc(entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const enc = new TextEncoder();
  const all = [...entries, { name: 'TRAILER!!!', mode: 0 }];
  all.forEach((e, i) => {
    const data = e.data ?? new Uint8Array(0);
    const name = enc.encode(e.name + '\0');
    const fields = [
      i + 1, e.mode, 0, 0, (e.mode & S_IFDIR) === S_IFDIR ? 2 : 1, 0, data.length,
      0, 0, e.rdev?.major ?? 0, e.rdev?.minor ?? 0, name.length, 0,
    ];
    const header = enc.encode('070701' + fields.map(hex8).join(''));
    parts.push(header, name, new Uint8Array(pad4(header.length + name.length)), data, new Uint8Array(pad4(data.length)));
  });
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
