// Tiny kernels assembled byte by byte, for end-to-end tests of the loader and the machine's
// exit paths without a compiler: Multiboot 1 (a.out kludge), Multiboot 2 (address + entry
// tags) and plain ELF64 images around the same few instructions.

const LOAD = 0x100000;

/** 32/64-bit code shared by all images: COM1 output, isa-debug-exit, traps. */
export const code = {
  print(text: string): number[] {
    const out: number[] = [0x66, 0xba, 0xf8, 0x03]; // mov dx, 0x3f8
    for (const ch of Buffer.from(text)) out.push(0xb0, ch, 0xee); // mov al, ch; out dx, al
    return out;
  },
  exit(status: number): number[] {
    return [0x66, 0xba, 0xf4, 0x00, 0xb8, ...le32(status), 0xef]; // mov dx,0xf4; mov eax,status; out dx,eax
  },
  /** with the IDT limit 0 that the loader leaves, #UD escalates to a triple fault */
  ud2: [0x0f, 0x0b],
  cliHlt: [0xfa, 0xf4, 0xeb, 0xfd], // cli; hlt; jmp back to hlt
  spin: [0xeb, 0xfe],
};

function le32(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
}
function le16(v: number): number[] {
  return [v & 0xff, (v >>> 8) & 0xff];
}
function le64(v: number): number[] {
  return [...le32(v >>> 0), ...le32(Math.floor(v / 2 ** 32))];
}

/** Multiboot 1 with the a.out kludge: header at 0, code right after it, loaded at 1 MiB. */
export function multiboot1(body: number[]): Uint8Array {
  const magic = 0x1badb002, flags = 0x00010000;
  const header = [...le32(magic), ...le32(flags), ...le32((-(magic + flags)) >>> 0),
    ...le32(LOAD), ...le32(LOAD), ...le32(0), ...le32(0), ...le32(LOAD + 32)];
  return Uint8Array.from([...header, ...body]);
}

/** Multiboot 2 with address and entry tags (32-bit protected-mode entry). */
export function multiboot2(body: number[]): Uint8Array {
  const tags = [
    ...le16(2), ...le16(0), ...le32(24), ...le32(LOAD), ...le32(LOAD), ...le32(0), ...le32(0), // address
    ...le16(3), ...le16(0), ...le32(12), ...le32(0 /* patched */), 0, 0, 0, 0, // entry (+pad to 8)
    ...le16(0), ...le16(0), ...le32(8), // end
  ];
  const len = 16 + tags.length;
  const magic = 0xe85250d6;
  const header = [...le32(magic), ...le32(0), ...le32(len), ...le32((-(magic + len)) >>> 0), ...tags];
  const entry = LOAD + header.length;
  const entryAt = 16 + 24 + 8;
  header.splice(entryAt, 4, ...le32(entry));
  return Uint8Array.from([...header, ...body]);
}

/** A plain ELF64 executable (no multiboot header): one PT_LOAD at 1 MiB, entered in long mode. */
export function elf64(body: number[]): Uint8Array {
  const ehsize = 64, phsize = 56;
  const entry = LOAD + ehsize + phsize;
  const fileSize = ehsize + phsize + body.length;
  const eh = [0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, ...new Array(8).fill(0),
    ...le16(2), ...le16(62), ...le32(1), ...le64(entry), ...le64(ehsize), ...le64(0),
    ...le32(0), ...le16(ehsize), ...le16(phsize), ...le16(1), ...le16(64), ...le16(0), ...le16(0)];
  const ph = [...le32(1), ...le32(5), ...le64(0), ...le64(LOAD), ...le64(LOAD),
    ...le64(fileSize), ...le64(fileSize), ...le64(0x1000)];
  return Uint8Array.from([...eh, ...ph, ...body]);
}
