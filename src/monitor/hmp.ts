// The human monitor (HMP): a small subset of QEMU's, with QEMU's command names and output
// layout, reached from the console (Ctrl-A c, -monitor stdio) and QMP's human-monitor-command.

import { readLinear } from '../debug/page-walk.js';
import { pagingRegsOf } from '../debug/x86-registers.js';
import type { VmControl } from './vm-control.js';
import type { CoreRegisters } from '../debug/x86-registers.js';

const HELP = [
  'cont|c -- resume emulation',
  'help|? -- show this help',
  'info status -- show the machine\'s run state',
  'info cpus -- show the cores',
  'info registers [-a] -- show the current core\'s registers (-a: every core)',
  'info version -- show the version',
  'info snapshots -- list the named snapshots',
  'savevm NAME -- save the whole machine as NAME (NAME.pxsnap in --snapshot-dir)',
  'loadvm NAME -- restore the machine saved as NAME',
  'delvm NAME -- delete the snapshot NAME',
  'quit|q -- end the machine',
  'stop|s -- stop every core',
  'system_powerdown -- power the machine off (no ACPI power button: at once)',
  'system_reset -- reset (ends the machine: parallax-emu always behaves as -no-reboot)',
  'x /fmt addr -- virtual memory dump (fmt: count, x|d|u|c, b|h|w|g)',
  'xp /fmt addr -- physical memory dump',
  'cpu N -- select the current core',
];

const hex = (v: bigint, digits: number) => v.toString(16).padStart(digits, '0');

export class HumanMonitor {
  /** the core `info registers` and `x` use */
  private cpu = 0;

  constructor(private readonly vm: VmControl) {}

  banner(): string {
    return `parallax-emu ${this.vm.version} monitor - type 'help' for more information\n`;
  }

  /** Run one command line; returns its output (lines end in \n). */
  async execute(line: string): Promise<string> {
    const words = line.trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return '';
    const [cmd, ...args] = words;
    switch (cmd) {
      case 'help': case '?': return `${HELP.join('\n')}\n`;
      case 'c': case 'cont': await this.vm.cont(); return '';
      case 's': case 'stop': await this.vm.stop(); return '';
      case 'q': case 'quit': this.vm.quit(); return '';
      case 'system_reset': this.vm.reset(); return '';
      case 'system_powerdown': this.vm.powerdown(); return '';
      case 'cpu': {
        const n = Number(args[0]);
        if (!Number.isInteger(n) || n < 0 || n >= this.vm.server.machine.cores) return `invalid CPU index\n`;
        this.cpu = n;
        return '';
      }
      case 'info': return this.info(args);
      case 'savevm': case 'loadvm': case 'delvm': return this.snapshot(cmd, args[0]);
      case 'x': case 'xp': return this.dump(cmd === 'xp', args.join(' '));
      default: return `unknown command: '${cmd}'\n`;
    }
  }

  private async info(args: string[]): Promise<string> {
    const m = this.vm.server.machine;
    switch (args[0]) {
      case 'status': {
        const s = this.vm.status;
        return `VM status: ${s === 'prelaunch' ? 'paused (prelaunch)' : s}\n`;
      }
      case 'version': return `${this.vm.version} (parallax-emu)\n`;
      case 'cpus': {
        const lines: string[] = [];
        for (let i = 0; i < m.cores; i++) lines.push(`${i === this.cpu ? '*' : ' '} CPU #${i}: thread_id=${m.workerThreadId(i)}`);
        return `${lines.join('\n')}\n`;
      }
      case 'registers': {
        const all = args[1] === '-a';
        return this.withRegisters(async (regs) => {
          const cores = all ? [...Array(m.cores).keys()] : [this.cpu];
          return cores.map((c) => (all ? `\nCPU#${c}\n` : '') + formatRegisters(regs(c))).join('');
        });
      }
      case 'snapshots': {
        const list = this.vm.snapshots();
        if (list.length === 0) return 'There is no snapshot available.\n';
        return ['ID        TAG                     VM SIZE                DATE', ...list.map((s, i) =>
          `${String(i + 1).padEnd(9)} ${s.name.padEnd(23)} ${`${(s.bytes / 2 ** 20).toFixed(1)} MiB`.padStart(7)} ${s.date.toISOString().replace('T', ' ').slice(0, 19)}`)].join('\n') + '\n';
      }
      default: return `info: unknown or missing subcommand (status, cpus, registers, version, snapshots)\n`;
    }
  }

  private async snapshot(cmd: 'savevm' | 'loadvm' | 'delvm', name: string | undefined): Promise<string> {
    if (!name) return `${cmd}: a snapshot name is needed\n`;
    try {
      if (cmd === 'savevm') {
        const r = await this.vm.savevm(name);
        return `saved '${name}': ${(r.bytes / 2 ** 20).toFixed(1)} MiB (${r.frames} RAM frames of 2 MiB) in ${r.ms.toFixed(0)} ms\n`;
      }
      if (cmd === 'loadvm') {
        const r = await this.vm.loadvm(name);
        return `loaded '${name}' (saved ${r.savedAt}) in ${r.ms.toFixed(0)} ms\n`;
      }
      this.vm.delvm(name);
      return '';
    } catch (e) {
      return `Error: ${(e as Error).message}\n`;
    }
  }

  /** Run `f` with the cores' registers, stopping the machine for it when it runs (as QEMU syncs vCPUs). */
  private async withRegisters(f: (regs: (core: number) => CoreRegisters | null) => Promise<string>): Promise<string> {
    const cc = this.vm.server.machine.control;
    const wasRunning = this.vm.running;
    if (!cc.stopped) await cc.pauseAll(); // also waits for -S cores still on their way to park
    try {
      return await f((c) => cc.registers(c));
    } finally {
      if (wasRunning) cc.resume(() => null);
    }
  }

  private async dump(physical: boolean, spec: string): Promise<string> {
    const m = /^(?:\/(\d*)([xduc]?)([bhwg]?))?\s*(\S+)$/.exec(spec.trim());
    if (!m) return `usage: ${physical ? 'xp' : 'x'} /[count][x|d|u|c][b|h|w|g] address\n`;
    const count = m[1] ? Number(m[1]) : 1;
    const fmt = m[2] || 'x';
    const size = { b: 1, h: 2, w: 4, g: 8 }[m[3] || (fmt === 'c' ? 'b' : 'w')]!;
    let addr: bigint;
    try { addr = BigInt(m[4]); } catch { return `invalid address '${m[4]}'\n`; }
    if (count < 1 || count * size > 65536) return 'count out of range\n';
    const machine = this.vm.server.machine;
    return this.withRegisters(async (regs) => {
      const r = regs(this.cpu);
      let bytes: Uint8Array | null;
      if (physical) {
        const ram = machine.ramView();
        const off = Number(addr);
        bytes = off >= 0 && off + count * size <= ram.length ? ram.slice(off, off + count * size) : null;
      } else {
        bytes = r ? readLinear(machine.ramView(), machine.layout, pagingRegsOf(r), addr, count * size) : null;
      }
      if (!bytes) return `Cannot access memory\n`;
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const perLine = fmt === 'c' ? 16 : Math.max(1, 16 / size);
      const out: string[] = [];
      for (let i = 0; i < count; i++) {
        if (i % perLine === 0) out.push(`${out.length ? '\n' : ''}${hex(addr + BigInt(i * size), 16)}:`);
        const v = size === 8 ? dv.getBigUint64(i * size, true) : BigInt(size === 4 ? dv.getUint32(i * size, true) : size === 2 ? dv.getUint16(i * size, true) : dv.getUint8(i * size));
        const signed = BigInt.asIntN(size * 8, v);
        out.push(' ' + (fmt === 'x' ? `0x${hex(v, size * 2)}` : fmt === 'd' ? signed.toString() : fmt === 'u' ? v.toString() :
          (v >= 32n && v < 127n ? String.fromCharCode(Number(v)) : `\\x${hex(v, 2)}`)));
      }
      return `${out.join('')}\n`;
    });
  }
}

/** QEMU's `info registers` layout (the general, segment and control registers). */
export function formatRegisters(r: CoreRegisters | null): string {
  if (!r) return 'CPU is not available\n';
  const q = (n: string) => hex(r[n] ?? 0n, 16);
  return [
    `RAX=${q('rax')} RBX=${q('rbx')} RCX=${q('rcx')} RDX=${q('rdx')}`,
    `RSI=${q('rsi')} RDI=${q('rdi')} RBP=${q('rbp')} RSP=${q('rsp')}`,
    `R8 =${q('r8')} R9 =${q('r9')} R10=${q('r10')} R11=${q('r11')}`,
    `R12=${q('r12')} R13=${q('r13')} R14=${q('r14')} R15=${q('r15')}`,
    `RIP=${q('rip')} RFL=${hex(r.eflags ?? 0n, 8)}`,
    ...['es', 'cs', 'ss', 'ds', 'fs', 'gs'].map((s) => `${s.toUpperCase()} =${hex(r[s] ?? 0n, 4)}` +
      (s === 'fs' ? ` ${q('fs_base')}` : s === 'gs' ? ` ${q('gs_base')}` : '')),
    `CR0=${hex(r.cr0 ?? 0n, 8)} CR2=${q('cr2')} CR3=${q('cr3')} CR4=${hex(r.cr4 ?? 0n, 8)}`,
    `EFER=${q('efer')}`,
  ].join('\n') + '\n';
}
