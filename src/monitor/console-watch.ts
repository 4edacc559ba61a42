// Resolves once the guest console has printed a given text (--snapshot-out ... --snapshot-at
// TEXT), across however the output is split into writes.

export class ConsoleWatch {
  private tail = '';
  private done = false;
  private resolve!: () => void;
  readonly seen: Promise<void> = new Promise((r) => (this.resolve = r));

  constructor(private readonly text: string) {}

  feed(bytes: Uint8Array): void {
    if (this.done) return;
    this.tail = (this.tail + Buffer.from(bytes).toString('latin1')).slice(-(this.text.length + 4096));
    if (this.tail.includes(this.text)) {
      this.done = true;
      this.resolve();
    }
  }
}
