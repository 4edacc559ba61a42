// The one error type the loader throws: a single line that says what is wrong with the input
// (not a kernel, truncated ELF, segment outside RAM...), suitable for printing as is.

export class BootError extends Error {
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'BootError';
  }
}

export function hex(v: number): string {
  return '0x' + v.toString(16);
}
