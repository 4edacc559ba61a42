// Runs a guest test kernel under QEMU (the oracle) or under parallax-emu and collects what it
// printed on COM1 and how it exited (isa-debug-exit: status (code << 1) | 1).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { qemuAvailable as launcherQemuAvailable, repoRoot } from '../../src/orchestrator/launcher.js';

export interface GuestRunOptions {
  /** emulated cores (-smp / --cores); default 1 */
  cores?: number;
  /** guest RAM in MiB (-m / --memory); default 128 */
  memMiB?: number;
  /** kernel command line after the kernel's own name (-append / --append) */
  append?: string;
  /** hard limit; the process is killed when it is reached; default 20 s */
  timeoutMs?: number;
  /** instruction-count time (-icount / --icount), e.g. 'shift=6' */
  icount?: string;
}

export interface GuestRunResult {
  /** everything the guest wrote to COM1 */
  transcript: string;
  /** process exit status; null when it was killed (timeout or signal) */
  exitCode: number | null;
  timedOut: boolean;
  /** what the process wrote on stderr (diagnostics only, never compared) */
  stderr: string;
  wallMs: number;
  /** the process wrote more than MAX_TRANSCRIPT_BYTES and was killed */
  overflowed: boolean;
}

/** A runaway guest printing forever is stopped here rather than filling memory. */
export const MAX_TRANSCRIPT_BYTES = 4 * 1024 * 1024;

/** Exit status of a kernel that returned 0 from kmain (isa-debug-exit: (0 << 1) | 1). */
export const GUEST_SUCCESS_STATUS = 1;

export const DEFAULT_MEM_MIB = 128;
export const DEFAULT_TIMEOUT_MS = 20_000;

export const QEMU_BINARY = process.env.PARALLAX_QEMU ?? 'qemu-system-x86_64';

/**
 * The CPU QEMU emulates for the oracle runs. qemu64 is TCG's baseline; the vendor is set to
 * Intel (QEMU adds an AMD-only HyperTransport hole to the memory map otherwise), and 1 GiB
 * pages are switched on because the paging kernel tests them. TCG cannot offer TSC-deadline,
 * x2APIC is deliberately absent. parallax-emu must advertise at least these features.
 */
export const QEMU_CPU_MODEL = 'qemu64,vendor=GenuineIntel,+pdpe1gb';

export { repoRoot };

/** test/guest in the source tree (also when this module runs from dist/). */
export function guestDir(): string {
  return join(repoRoot(), 'test', 'guest');
}

export function guestImage(kernel: string): string {
  return join(guestDir(), 'build', `${kernel}.elf`);
}

export function expectedTranscriptPath(kernel: string, cores: number): string {
  return join(guestDir(), 'expected', `${kernel}.${cores}.txt`);
}

/** Builds every kernel (incremental; serialized between processes by build.sh's lock). */
export function buildGuestKernels(): void {
  const r = spawnSync('bash', [join(guestDir(), 'build.sh')], { encoding: 'utf8' });
  if (r.error) throw new Error(`guest build could not start: ${r.error.message}`);
  if (r.status !== 0) {
    throw new Error(`guest build failed (status ${r.status}):\n${r.stdout}${r.stderr}`);
  }
}

export function qemuAvailable(): boolean {
  return launcherQemuAvailable(QEMU_BINARY);
}

/**
 * The kernel, cores, memory, command line and instruction-count time of a run, in QEMU's
 * spellings (-kernel, -smp, -m, -append, -icount), which parallax-emu takes too
 * (src/cli/options.ts): both machines get the same words.
 */
function guestRunArgs(image: string, opts: GuestRunOptions): string[] {
  const args = ['-kernel', image, '-smp', String(opts.cores ?? 1), '-m', String(opts.memMiB ?? DEFAULT_MEM_MIB)];
  if (opts.append !== undefined) args.push('-append', opts.append);
  if (opts.icount !== undefined) args.push('-icount', opts.icount);
  return args;
}

export function qemuArgs(image: string, opts: GuestRunOptions = {}): string[] {
  const args = [
    '-machine', 'pc',
    '-cpu', QEMU_CPU_MODEL,
    '-no-reboot',
    '-display', 'none',
    '-serial', 'stdio',
    '-monitor', 'none',
    '-net', 'none',
    '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    ...guestRunArgs(image, opts),
  ];
  // -nographic is deliberately absent: with it SeaBIOS mirrors its banner onto COM1
  return args;
}

/** The emulator's CLI script; PARALLAX_EMU_CLI overrides it (to test the harness itself). */
export function parallaxCli(): string {
  return process.env.PARALLAX_EMU_CLI ?? join(repoRoot(), 'dist', 'src', 'cli', 'parallax-emu.js');
}

export function parallaxArgs(image: string, opts: GuestRunOptions = {}): string[] {
  return [parallaxCli(), ...guestRunArgs(image, opts)];
}

/** Spawns a process, collects stdout/stderr, and kills it (SIGKILL) at the deadline. */
export function runProcess(command: string, args: string[], timeoutMs: number): Promise<GuestRunResult> {
  return new Promise((resolvePromise, reject) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    let overflowed = false;
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on('data', (b: Buffer) => {
      outBytes += b.length;
      if (outBytes <= MAX_TRANSCRIPT_BYTES) out.push(b);
      else if (!overflowed) {
        overflowed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.on('data', (b: Buffer) => {
      errBytes += b.length;
      if (errBytes <= MAX_TRANSCRIPT_BYTES) err.push(b);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${command} could not start: ${e.message}`));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({
        transcript: Buffer.concat(out).toString('latin1'),
        exitCode: timedOut || overflowed ? null : code,
        timedOut,
        overflowed,
        stderr: Buffer.concat(err).toString('utf8'),
        wallMs: Date.now() - started,
      });
    });
  });
}

export function runQemu(image: string, opts: GuestRunOptions = {}): Promise<GuestRunResult> {
  return runProcess(QEMU_BINARY, qemuArgs(resolve(image), opts), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

export function runParallax(image: string, opts: GuestRunOptions = {}): Promise<GuestRunResult> {
  return runProcess(process.execPath, parallaxArgs(resolve(image), opts), opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

/** One golden run: a kernel at a core count, compared by transcript and exit status. */
export interface GuestCase {
  kernel: string;
  cores: number;
  append?: string;
  /** command line for the emulator run instead of `append` (same transcript expected) */
  emulatorAppend?: string;
  /** quiet-host time QEMU needs; both machines get a multiple of it as a hang limit (see the tests) */
  timeoutMs: number;
  /** expected process status when not GUEST_SUCCESS_STATUS (0: the guest powered the machine off) */
  exitStatus?: number;
  /** run both machines in instruction-count time (same golden transcript) */
  icount?: string;
}

/** a kernel on one core with the usual 10 s hang limit */
const oneCore = (kernel: string, more: Partial<GuestCase> = {}): GuestCase => ({ kernel, cores: 1, timeoutMs: 10_000, ...more });
/** the emulator is held to the SDM where QEMU 7.2 is not: it runs the kernel with sdm=strict */
const SDM_STRICT: Partial<GuestCase> = { emulatorAppend: 'sdm=strict' };

export const GUEST_CASES: GuestCase[] = [
  oneCore('hello', { append: 'first-arg key=value' }),
  ...['paging', 'exceptions'].map((kernel) => oneCore(kernel)),
  // QEMU's TCG cannot offer TSC-deadline; parallax-emu is expected to (docs/ARCHITECTURE.md, Time)
  oneCore('lapic-timer', { emulatorAppend: 'tsc-deadline=required' }),
  oneCore('ioapic-hpet'),
  ...[1, 2, 4, 8].map((cores) => ({ kernel: 'smp', cores, timeoutMs: cores === 8 ? 15_000 : 10_000 })),
  ...[4, 16].map((cores) => ({ kernel: 'smp-early', cores, timeoutMs: cores === 16 ? 15_000 : 10_000 })),
  { kernel: 'ipi', cores: 2, timeoutMs: 10_000 },
  { kernel: 'halt-wake', cores: 2, timeoutMs: 20_000 },
  { kernel: 'halt-wake', cores: 2, icount: 'shift=6', timeoutMs: 30_000 },
  { kernel: 'ipi', cores: 4, timeoutMs: 10_000 },
  { kernel: 'atomics', cores: 4, timeoutMs: 20_000 },
  oneCore('syscall'),
  oneCore('sse2'),
  // SDM_STRICT: QEMU 7.2 does not report C1 (rounded up); it aborts on FERR# (CR0.NE = 0) and
  // leaves FOP 0, so the emulator alone runs those checks
  ...['x87', 'fpu-error'].map((kernel) => oneCore(kernel, SDM_STRICT)),
  // ends by ACPI S5 (PM1a_CNT), which both machines turn into status 0
  oneCore('acpi-pm', { exitStatus: 0 }),
  // SDM_STRICT: QEMU 7.2 TCG accepts IA32_SPEC_CTRL without advertising it, and drops the
  // single-step trap after STI
  ...['cpu-gaps', 'debug-regs'].map((kernel) => oneCore(kernel, SDM_STRICT)),
];

/** Human-readable first difference between two transcripts, for test failure messages. */
export function describeMismatch(expected: string, actual: string): string {
  const e = expected.split('\n');
  const a = actual.split('\n');
  for (let i = 0; i < Math.max(e.length, a.length); i++) {
    if (e[i] !== a[i]) {
      return `first difference at line ${i + 1}:\n  expected: ${JSON.stringify(e[i])}\n  actual:   ${JSON.stringify(a[i])}`;
    }
  }
  return 'transcripts are equal';
}
