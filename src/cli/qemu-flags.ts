// QEMU flags that users carry over from their QEMU command lines. Those that describe what
// parallax-emu always does are accepted (and change nothing); those that would ask for something
// it does not do are refused with the reason, never silently ignored.

/** QEMU spellings accepted as-is: flag -> the values that are true of our machine (null: a switch). */
export const ACCEPTED_QEMU_FLAGS: Record<string, { values: string[] | null; prefixes?: string[]; why: string }> = {
  nographic: { values: null, why: 'there is no display; COM1 is this terminal' },
  'no-reboot': { values: null, why: 'a guest reset ends the machine' },
  serial: {
    values: ['stdio', 'mon:stdio'], prefixes: ['file:'],
    why: 'COM1 is this terminal (Ctrl-A c switches to the monitor), or with file:PATH a file that receives its output (no input, as QEMU)',
  },
  display: { values: ['none'], why: 'there is no display' },
  vga: { values: ['none'], why: 'there is no display adapter' },
  machine: { values: ['pc', 'pc-i440fx-7.2'], why: 'the board is always QEMU\'s pc (i440FX + PIIX3) layout' },
  device: {
    values: ['isa-debug-exit,iobase=0xf4,iosize=0x04', 'isa-debug-exit,iobase=0xf4,iosize=4', 'isa-debug-exit,iobase=0xf4'],
    why: 'isa-debug-exit is always at port 0xf4',
  },
};

/** QEMU flags that would mean something parallax-emu does not do, with what to do instead. */
export const REFUSED_QEMU_FLAGS: Record<string, string> = {
  'enable-kvm': 'parallax-emu runs its own x86-64 translator; there is no KVM or TCG to choose',
  accel: 'parallax-emu runs its own x86-64 translator; there is no KVM or TCG to choose',
  'no-shutdown': 'the machine always ends when the guest powers off',
  daemonize: 'run it in the background with your shell (&, nohup, systemd-run)',
  nodefaults: 'the pc board\'s devices (COM1, PIT, RTC, e1000, ...) are always present',
  cdrom: 'there is no CD-ROM drive: use -drive file=IMG,format=raw,if=virtio (raw images only)',
  cpu: 'the CPU model is fixed (see docs for its CPUID)',
  vnc: 'there is no display',
};

/** Names of every QEMU flag above (for yargs and for did-you-mean). */
export const QEMU_FLAG_NAMES = [...Object.keys(ACCEPTED_QEMU_FLAGS), ...Object.keys(REFUSED_QEMU_FLAGS)];

/**
 * Check the QEMU-convention flags in the parsed arguments: returns an error message for a
 * refused flag or an accepted flag with a value we do not support, else null.
 */
export function checkQemuFlags(parsed: Record<string, unknown>): string | null {
  for (const [flag, reason] of Object.entries(REFUSED_QEMU_FLAGS)) {
    if (parsed[flag] !== undefined) return `QEMU's -${flag} is not supported: ${reason}`;
  }
  for (const [flag, rule] of Object.entries(ACCEPTED_QEMU_FLAGS)) {
    const v = parsed[flag];
    if (v === undefined || rule.values === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) {
      const text = String(one);
      if (!rule.values.includes(text) && !(rule.prefixes ?? []).some((p) => text.startsWith(p) && text.length > p.length)) {
        const accepted = [...rule.values, ...(rule.prefixes ?? []).map((p) => `${p}PATH`)];
        return `-${flag} ${text} is not supported (accepted: ${accepted.join(' | ')}; ${rule.why})`;
      }
    }
  }
  return null;
}
