// Interrupt wiring of the ISA bus and the GSIs: ISA IRQ n reaches 8259 input n and IOAPIC pin n,
// except IRQ0, which reaches IOAPIC pin 2 (the ACPI interrupt source override the MADT
// declares, and what QEMU's `pc` machine does). IRQ2 does not exist on ISA (it is the 8259
// cascade), so input 2 means GSI 2: IOAPIC pin 2 only; it is where QEMU's HPET routes its
// timers outside legacy mode. GSIs 16-23 reach only the IOAPIC.
//
// Several sources may drive one input (the PIT and the HPET in legacy mode both drive IRQ0;
// PCI INTx lines are shared): each `line(n)` handle is its own source and the input is the OR
// of them. `setIrq(n, level)` drives one default source per input.

import type { Ioapic } from './ioapic.js';
import type { Pic8259 } from './pic8259.js';
import type { IrqController, IrqLine, Snapshotable } from './types.js';

export const IRQ_INPUTS = 24;

/** IOAPIC pin for an input (ISA IRQ or GSI) */
export function ioapicPinFor(input: number): number {
  return input === 0 ? 2 : input;
}

/** A source driving one router input, which a device may also disconnect. */
export class RoutedIrqLine implements IrqLine {
  private level = false;
  private enabled = true;

  constructor(private readonly router: IrqRouter, readonly input: number) {}

  setLevel(level: boolean): void {
    this.level = level;
    this.router.recompute(this.input);
  }

  /** disconnect/reconnect the source (HPET legacy replacement takes IRQ0/IRQ8 from PIT/RTC) */
  setEnabled(on: boolean): void {
    if (on === this.enabled) return;
    this.enabled = on;
    this.router.recompute(this.input);
    this.router.notifyConfigChange();
  }

  isEnabled(): boolean {
    return this.enabled;
  }

  /** what this source currently contributes */
  asserted(): boolean {
    return this.enabled && this.level;
  }

  /** further edges from this source would change nothing the guest can see */
  quiescent(): boolean {
    return !this.enabled || this.router.isQuiescent(this.input);
  }

  /** call `fn` whenever masks/modes change, so an idle source can wake up */
  onConfigChange(fn: () => void): void {
    this.router.addConfigListener(fn);
  }
}

export class IrqRouter implements IrqController, Snapshotable {
  private readonly sources: RoutedIrqLine[][] = Array.from({ length: IRQ_INPUTS }, () => []);
  private readonly defaults: RoutedIrqLine[];
  private readonly inputLevel = new Array<boolean>(IRQ_INPUTS).fill(false);
  private readonly pinLevel = new Array<boolean>(IRQ_INPUTS).fill(false);
  private readonly listeners: (() => void)[] = [];
  /** setIrq calls for inputs that do not exist */
  dropped = 0;

  constructor(private readonly pic: Pic8259 | null, private readonly ioapic: Ioapic | null) {
    this.defaults = Array.from({ length: IRQ_INPUTS }, (_, i) => this.line(i));
    if (pic) pic.onConfigChange = () => this.notifyConfigChange();
    if (ioapic) ioapic.onConfigChange = () => this.notifyConfigChange();
  }

  /** a new source on `input` (0-15 ISA IRQ, except 2 = GSI 2; 16-23 GSI) */
  line(input: number): RoutedIrqLine {
    if (!(input >= 0 && input < IRQ_INPUTS)) throw new Error(`IrqRouter.line: no input ${input}`);
    const l = new RoutedIrqLine(this, input);
    this.sources[input].push(l);
    return l;
  }

  setIrq(irq: number, level: boolean): void {
    if (!(irq >= 0 && irq < IRQ_INPUTS)) {
      this.dropped++;
      return;
    }
    this.defaults[irq].setLevel(level);
  }

  /** @internal called by RoutedIrqLine */
  recompute(input: number): void {
    let level = false;
    for (const s of this.sources[input]) if (s.asserted()) { level = true; break; }
    if (level === this.inputLevel[input]) return;
    this.inputLevel[input] = level;
    if (input < 16 && input !== 2) this.pic?.setIrq(input, level);
    const pin = ioapicPinFor(input);
    const pinLevel = pin === 2 ? this.inputLevel[0] || this.inputLevel[2] : level;
    if (pinLevel !== this.pinLevel[pin]) {
      this.pinLevel[pin] = pinLevel;
      this.ioapic?.setPin(pin, pinLevel);
    }
  }

  /** edges on `input` are invisible now: latched-and-masked at the 8259, masked at the IOAPIC */
  isQuiescent(input: number): boolean {
    const picQuiet = !this.pic || input >= 16 || input === 2 || this.pic.isLatchedAndMasked(input);
    const ioapicQuiet = !this.ioapic || this.ioapic.isMasked(ioapicPinFor(input));
    return picQuiet && ioapicQuiet;
  }

  addConfigListener(fn: () => void): void {
    this.listeners.push(fn);
  }

  /** @internal */
  notifyConfigChange(): void {
    for (const fn of this.listeners) fn();
  }

  inputAsserted(input: number): boolean {
    return this.inputLevel[input] ?? false;
  }

  // The router's only state is the levels its sources drive; devices restore their own lines.
  saveState(): { levels: number[] } {
    return { levels: this.inputLevel.map((l) => (l ? 1 : 0)) };
  }

  restoreState(state: unknown): void {
    const s = state as { levels: number[] };
    if (!s || !Array.isArray(s.levels) || s.levels.length !== IRQ_INPUTS) throw new Error('IrqRouter.restoreState: not a router snapshot');
    for (let i = 0; i < IRQ_INPUTS; i++) this.inputLevel[i] = s.levels[i] === 1;
    for (let p = 0; p < IRQ_INPUTS; p++) this.pinLevel[p] = p === 2 ? this.inputLevel[0] || this.inputLevel[2] : p === 0 ? false : this.inputLevel[p];
  }
}
