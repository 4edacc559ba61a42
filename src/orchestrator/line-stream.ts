// Numbered pipeline lines at the orchestrator's two ends of a pipeline (docs/PROTOCOL.md,
// "Pipelines that lose nothing"). As the SOURCE it numbers the lines it feeds and holds each
// one until the first stage acknowledges it (a stage acknowledges a line only once every stage
// after it has it done), sending what is held again after a stall, or to wherever the first
// stage is re-instantiated. As the SINK it takes each line once and in order, drops (and
// counts) duplicates and gaps, and acknowledges to the stage that sent it. The DIME kernel
// does the same between stages (src/dime/kernel/lines.c).
import { randomInt } from 'node:crypto';
import * as W from '../protocol/wire.js';
import { encodePayload, type Decoded, type Frame } from '../protocol/codec.js';
import { UsageError } from './errors.js';
import type { OrchestratorLink } from './link.js';
import type { DimeAddress } from './targets.js';

const SEQ = W.messageByName('STREAM_SEQ');
const ACK = W.messageByName('STREAM_ACK');
const SEQ_HEADER = W.place(SEQ.request!.fields).size;
/** no acknowledgment progress for this long: send the held lines again, then after 2x, 4x, 8x
 * as long while nothing comes back (as the kernel does) */
export const RETRANSMIT_MS = 500;
const RETRANSMIT_BACKOFF = 3;
/** lines per resend: a DIME's inbox holds 32 frames */
const RESEND_BURST = 16;
/** streams the sink remembers (a flood of made-up stream ids must not grow it without end) */
const MAX_STREAMS = 1024;

export function linePayload(stream: number, line: number, restart: boolean, data: Buffer): Buffer {
  return encodePayload(SEQ.request!, { stream, line, lineFlags: restart ? W.LINE_FLAGS.RESTART : 0, pad: 0, data });
}

/** The orchestrator feeding numbered lines into a pipeline's first stage. */
export class LineSource {
  readonly stream: number;
  private nextLine = 1;
  private readonly held: Array<{ line: number; data: Buffer }> = [];
  private restart = true;
  private progressAt = Date.now();
  private misses = 0;
  private readonly timer: NodeJS.Timeout;
  readonly stats = { sent: 0, resent: 0, acked: 0 };

  constructor(private readonly link: OrchestratorLink, public target: DimeAddress, stream = randomInt(1, 2 ** 32 - 1)) {
    this.stream = stream;
    this.timer = setInterval(() => this.tick(), RETRANSMIT_MS / 2);
    this.timer.unref();
    link.on('frame', this.onFrame);
  }

  /** lines sent and not yet acknowledged */
  get unacknowledged(): number {
    return this.held.length;
  }

  /** One line (its newline is added when missing); returns its number. */
  send(text: string | Buffer): number {
    let data = Buffer.from(text);
    if (data[data.length - 1] !== 0x0a) data = Buffer.concat([data, Buffer.from('\n')]);
    if (data.indexOf(0x0a) !== data.length - 1) throw new UsageError('a numbered line holds one newline, at its end');
    if (data.length > W.MAX_PAYLOAD - SEQ_HEADER) throw new UsageError(`a numbered line is at most ${W.MAX_PAYLOAD - SEQ_HEADER} bytes`);
    const line = this.nextLine++;
    if (!this.held.length) {
      this.progressAt = Date.now();
      this.misses = 0;
    }
    this.held.push({ line, data });
    this.transmit(line, data);
    return line;
  }

  /** The first stage moved (fault recovery): what it had not acknowledged goes to the new one. */
  retarget(to: DimeAddress): void {
    this.target = to;
    this.misses = 0;
    this.resend();
  }

  close(): void {
    clearInterval(this.timer);
    this.link.off('frame', this.onFrame);
  }

  private transmit(line: number, data: Buffer): void {
    this.link.send({ dstMac: this.target.server, channel: 'data', scope: 'dime', code: SEQ.code, dstCore: this.target.core, payload: linePayload(this.stream, line, this.restart, data) });
    this.restart = false;
    this.stats.sent++;
  }

  private resend(): void {
    this.progressAt = Date.now();
    this.restart = true;
    for (const h of this.held.slice(0, RESEND_BURST)) {
      this.transmit(h.line, h.data);
      this.stats.resent++;
    }
  }

  private tick(): void {
    if (!this.held.length || Date.now() - this.progressAt < RETRANSMIT_MS * 2 ** this.misses) return;
    this.resend();
    if (this.misses < RETRANSMIT_BACKOFF) this.misses++;
  }

  private readonly onFrame = (f: Frame): void => {
    if (f.message !== ACK || f.srcMac !== this.target.server || f.srcCore !== this.target.core) return;
    let v: Decoded;
    try {
      v = this.link.codec.fields(f);
    } catch {
      return;
    }
    if (v.stream !== this.stream) return;
    let freed = 0;
    while (this.held.length && this.held[0].line <= (v.upTo as number)) {
      this.held.shift();
      freed++;
    }
    if (freed) {
      this.progressAt = Date.now();
      this.misses = 0;
      this.stats.acked += freed;
    }
  };
}

export interface SinkLine {
  stream: number;
  line: number;
}

/** The orchestrator as the last stage of pipelines: each numbered line once, in order. */
export class LineSink {
  private readonly next = new Map<number, number>();
  readonly stats = { accepted: 0, duplicates: 0, gaps: 0, refused: 0 };
  /** false: take lines but do not acknowledge them (tests make a stage hold its lines) */
  acking = true;

  constructor(private readonly link: OrchestratorLink) {}

  /** A STREAM_SEQ frame to us: its numbers when the line is new and in order; null when dropped (counted). */
  take(f: Frame, v: Decoded): SinkLine | null {
    const stream = v.stream as number;
    const line = v.line as number;
    const restart = ((v.lineFlags as number) & W.LINE_FLAGS.RESTART) !== 0;
    if (!stream || !line || f.srcCore === W.CORE_NONE) {
      this.stats.refused++;
      return null;
    }
    const next = this.next.get(stream) ?? 0;
    if (next && line < next) {
      this.stats.duplicates++;
      this.ack(f, stream, next - 1); // its earlier acknowledgment may have been lost
      return null;
    }
    if (!restart && line !== next) {
      this.stats.gaps++;
      return null;
    }
    if (!this.next.has(stream) && this.next.size >= MAX_STREAMS) this.next.delete(this.next.keys().next().value as number);
    this.next.set(stream, line + 1);
    this.stats.accepted++;
    this.ack(f, stream, line);
    return { stream, line };
  }

  private ack(f: Frame, stream: number, upTo: number): void {
    if (!this.acking) return;
    this.link.send({ dstMac: f.srcMac, channel: 'data', scope: 'dime', code: ACK.code, dstCore: f.srcCore, payload: encodePayload(ACK.request!, { stream, upTo }) });
  }
}
