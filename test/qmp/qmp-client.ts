// A QMP client for tests: reads the greeting, sends commands, collects replies and events apart.
import type { Socket } from 'node:net';
import { connectWithRetry } from '../lib/connect-retry.js';

export type QmpMessage = Record<string, unknown>;

export class QmpClient {
  private sock!: Socket;
  private buf = '';
  readonly events: QmpMessage[] = [];
  private replies: QmpMessage[] = [];
  private waiters: Array<() => void> = [];
  greeting!: QmpMessage;

  static async connect(path: string, timeoutMs = 30_000): Promise<QmpClient> {
    const c = new QmpClient();
    c.sock = await connectWithRetry({ path }, timeoutMs);
    c.sock.setEncoding('utf8');
    c.sock.on('data', (d: string) => c.onData(d));
    c.sock.on('error', () => undefined);
    c.greeting = await c.nextReply();
    return c;
  }

  private onData(d: string): void {
    this.buf += d;
    let nl: number;
    while ((nl = this.buf.indexOf('\n')) >= 0) {
      const line = this.buf.slice(0, nl).trim();
      this.buf = this.buf.slice(nl + 1);
      if (!line) continue;
      const m = JSON.parse(line) as QmpMessage;
      if ('event' in m) this.events.push(m); else this.replies.push(m);
      for (const w of this.waiters.splice(0)) w();
    }
  }

  private async until<T>(get: () => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = get();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`QMP: no ${what} within ${timeoutMs} ms`);
      await new Promise<void>((r) => { this.waiters.push(r); setTimeout(r, 200); });
    }
  }

  nextReply(): Promise<QmpMessage> {
    return this.until(() => this.replies.shift(), 'reply');
  }

  async execute(cmd: string, args?: Record<string, unknown>, id?: unknown): Promise<QmpMessage> {
    const msg: QmpMessage = { execute: cmd };
    if (args) msg.arguments = args;
    if (id !== undefined) msg.id = id;
    this.sock.write(`${JSON.stringify(msg)}\n`);
    return this.nextReply();
  }

  sendRaw(text: string): void {
    this.sock.write(text);
  }

  /** the first event named `name` (waits for it) */
  event(name: string, timeoutMs?: number): Promise<QmpMessage> {
    return this.until(() => this.events.find((e) => e.event === name), `${name} event`, timeoutMs);
  }

  close(): void {
    this.sock.destroy();
  }
}

/** The shape of a JSON value: keys and value types, recursively (arrays by their first element). */
export function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? [shape(v[0])] : [];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return typeof v;
}
