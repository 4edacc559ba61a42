// Reading a network key from a file the way ssh treats private keys: a regular file nobody
// but its owner may read or write. Used by the orchestrator (master secret) and parallax-emu
// (a server's key file for fw_cfg).
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';

export class KeyFileError extends Error {}

/**
 * Read a secret file: it must be a regular file not readable or writable by group or others
 * (as ssh does with private keys). Trailing newline removed.
 */
export function readSecretFile(file: string): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new KeyFileError(`cannot read key file ${file}: ${(e as Error).message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new KeyFileError(`key file ${file} is not a regular file`);
    if (st.mode & 0o077) throw new KeyFileError(`key file ${file} is accessible by others (mode ${(st.mode & 0o777).toString(8)}): chmod 600 ${file}`);
    const text = readFileSync(fd, 'utf8').replace(/\r?\n$/, '');
    if (!text) throw new KeyFileError(`key file ${file} is empty`);
    return text;
  } finally {
    closeSync(fd);
  }
}

