// The `--initrd` module list, in QEMU's -initrd syntax: modules separated by commas, a
// doubled comma ",," standing for a literal comma, each module "FILE[ args...]" where the
// file name ends at the first space.

import { readFileSync } from 'node:fs';
import { BootError } from './boot-error.js';

export interface ModuleSpec {
  /** the module's whole text, "FILE args" (what QEMU hands a Multiboot 1 kernel) */
  text: string;
  path: string;
  /** text after the file name and its separating space ('' if none) */
  args: string;
}

export interface ModuleInput extends ModuleSpec {
  data: Uint8Array;
}

export function parseInitrdSpec(spec: string): ModuleSpec[] {
  const out: ModuleSpec[] = [];
  let cur = '';
  const flush = () => {
    const text = cur;
    cur = '';
    const sp = text.indexOf(' ');
    const path = sp < 0 ? text : text.slice(0, sp);
    if (path === '') throw new BootError(`--initrd: empty module name in '${spec}'`);
    out.push({ text, path, args: sp < 0 ? '' : text.slice(sp + 1) });
  };
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === ',') {
      if (spec[i + 1] === ',') {
        cur += ',';
        i++;
      } else {
        flush();
      }
    } else {
      cur += c;
    }
  }
  flush();
  return out;
}

/** Parse the spec and read every module file; a missing file is a BootError. */
export function readModules(spec: string): ModuleInput[] {
  return parseInitrdSpec(spec).map((m) => {
    try {
      return { ...m, data: new Uint8Array(readFileSync(m.path)) };
    } catch (e) {
      throw new BootError(`--initrd: cannot read module '${m.path}': ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    }
  });
}
