// Files a user names on the command line (policy files, workflows): read as text, and a file
// that cannot be read is bad input (UsageError, exit 2) that says which file and why.
import { readFileSync } from 'node:fs';
import { UsageError } from './errors.js';

/** `file` as UTF-8 text; throws "cannot read <what> <file>: <reason>" as a UsageError. */
export function readUserFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${file}: ${(e as Error).message}`);
  }
}
