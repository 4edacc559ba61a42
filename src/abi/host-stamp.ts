// A host monotonic time stamp that every thread reads alike (CLOCK_MONOTONIC via
// process.hrtime), truncated to 32 bits: enough for differences under 2 s, such as how long a
// device access or a wake-up took. Host time only: guest-visible time lives in clock.ts.

/** nanoseconds, modulo 2^32, as an Int32 (subtract two with `(b - a) | 0`) */
export function hostStampNs(): number {
  const t = process.hrtime();
  return (t[0] * 1e9 + t[1]) | 0;
}

/** Add `ns` to a 64-bit counter kept as (lo, hi) Int32 words of the control block. */
export function addCounter64(ctl: Int32Array, lo: number, ns: number): void {
  const v = (ctl[lo] >>> 0) + (ctl[lo + 1] >>> 0) * 4294967296 + ns;
  ctl[lo] = v % 4294967296 | 0;
  ctl[lo + 1] = Math.floor(v / 4294967296) | 0;
}

/** A 64-bit counter kept as (lo, hi) Int32 words. */
export function readCounter64(ctl: Int32Array, lo: number): number {
  return (ctl[lo] >>> 0) + (ctl[lo + 1] >>> 0) * 4294967296;
}
