// Where -gdb / -s listen, as QEMU spells it; apart from the stub so the command line can check
// it without loading the stub.

export class GdbAddressError extends Error {}

/** "tcp::1234", "tcp:HOST:PORT", "1234" (as QEMU's -gdb) -> host and port. */
export function parseGdbAddress(spec: string): { host: string; port: number } {
  const m = /^(?:tcp:([^:]*):)?(\d+)$/.exec(spec.trim());
  const port = m ? Number(m[2]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new GdbAddressError(`-gdb ${spec}: expected tcp::PORT or tcp:HOST:PORT`);
  }
  return { host: m[1] || '0.0.0.0', port };
}
