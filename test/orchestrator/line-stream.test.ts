// The orchestrator's ends of a numbered pipeline (src/orchestrator/line-stream.ts) without a
// network: the sink's in-order / duplicate / gap / RESTART rules and its acknowledgments, the
// source's numbering, holding, acknowledgment and replay to a moved first stage. The same
// rules in the kernel are tested on live DIMEs in failover.test.ts.
import { describe, it, expect } from 'vitest';
import { EventEmitter } from 'node:events';
import * as W from '../../src/protocol/wire.js';
import { PxCodec, encodePayload, type Frame } from '../../src/protocol/codec.js';
import { LineSink, LineSource, linePayload } from '../../src/orchestrator/line-stream.js';
import type { OrchestratorLink } from '../../src/orchestrator/link.js';

const KEY = 'line-stream-unit-key';
const ME = '02:50:00:00:00:09';
const S1 = '52:54:00:00:00:c1';
const SEQ = W.messageByName('STREAM_SEQ');
const ACK = W.messageByName('STREAM_ACK');

/** What LineSource and LineSink use of a link: a codec, send(), and 'frame' events. */
class FakeLink extends EventEmitter {
  readonly codec = new PxCodec({ key: KEY });
  readonly sent: Array<{ dstMac: string; dstCore?: number; code: number; payload?: Buffer }> = [];
  send(f: { dstMac: string; dstCore?: number; code: number; payload?: Buffer }): Buffer {
    this.sent.push(f);
    return Buffer.alloc(0);
  }
  /** a frame as a DIME would send it to us */
  fromDime(core: number, code: number, payload: Buffer): Frame {
    const raw = this.codec.encode({ dstMac: ME, srcMac: S1, srcCore: core, channel: 'data', scope: 'dime', code, dstCore: W.CORE_NONE, seq: 1n, payload });
    return this.codec.decode(raw)!;
  }
  acks(): Array<{ to: string; stream: number; upTo: number }> {
    return this.sent.filter((s) => s.code === ACK.code).map((s) => {
      const v = this.codec.fields({ ...this.fromDime(0, ACK.code, s.payload!) });
      return { to: `${s.dstMac}/${s.dstCore}`, stream: v.stream as number, upTo: v.upTo as number };
    });
  }
  lines(): Array<{ to: string; line: number; restart: boolean; text: string }> {
    return this.sent.filter((s) => s.code === SEQ.code).map((s) => {
      const v = this.codec.fields(this.fromDime(0, SEQ.code, s.payload!));
      return { to: `${s.dstMac}/${s.dstCore}`, line: v.line as number, restart: ((v.lineFlags as number) & W.LINE_FLAGS.RESTART) !== 0, text: (v.data as Buffer).toString() };
    });
  }
}

describe('LineSink: each numbered line once, in order', () => {
  it('takes the next line, drops and counts duplicates and gaps, acknowledges to the sender', () => {
    const link = new FakeLink();
    const sink = new LineSink(link as unknown as OrchestratorLink);
    const take = (line: number, restart = false, stream = 7) => {
      const f = link.fromDime(2, SEQ.code, linePayload(stream, line, restart, Buffer.from(`l${line}\n`)));
      return sink.take(f, link.codec.fields(f));
    };
    expect(take(1)).toBeNull(); // a stream must start with RESTART: a first line may be missing
    expect(sink.stats.gaps).toBe(1);
    expect(take(1, true)).toEqual({ stream: 7, line: 1 });
    expect(take(2)).toEqual({ stream: 7, line: 2 });
    expect(take(2)).toBeNull(); // duplicate
    expect(take(1, true)).toBeNull(); // a sender restarting behind us: duplicate
    expect(take(4)).toBeNull(); // 3 is missing
    expect(take(3)).toEqual({ stream: 7, line: 3 });
    expect(take(6, true)).toEqual({ stream: 7, line: 6 }); // RESTART past next: the sender had 4, 5 acknowledged
    expect(take(1, true, 8)).toEqual({ stream: 8, line: 1 }); // another stream, its own numbers
    expect(sink.stats).toEqual({ accepted: 5, duplicates: 2, gaps: 2, refused: 0 });
    // every accepted line acknowledged; a duplicate answered with what was acknowledged last
    expect(link.acks()).toEqual([
      { to: `${S1}/2`, stream: 7, upTo: 1 }, { to: `${S1}/2`, stream: 7, upTo: 2 }, { to: `${S1}/2`, stream: 7, upTo: 2 }, { to: `${S1}/2`, stream: 7, upTo: 2 },
      { to: `${S1}/2`, stream: 7, upTo: 3 }, { to: `${S1}/2`, stream: 7, upTo: 6 }, { to: `${S1}/2`, stream: 8, upTo: 1 },
    ]);
    const zero = link.fromDime(2, SEQ.code, linePayload(0, 1, true, Buffer.from('x\n')));
    expect(sink.take(zero, link.codec.fields(zero))).toBeNull();
    expect(sink.stats.refused).toBe(1);
  });
});

describe('LineSource: numbers, holds until acknowledged, replays to a moved stage', () => {
  it('holds every line until the first stage acknowledges it and sends the rest to its new DIME', () => {
    const link = new FakeLink();
    const src = new LineSource(link as unknown as OrchestratorLink, { server: S1, core: 1 }, 99);
    try {
      expect([src.send('a'), src.send('b\n'), src.send('c')]).toEqual([1, 2, 3]);
      expect(() => src.send('two\nlines')).toThrow(/one newline, at its end/);
      expect(link.lines()).toEqual([
        { to: `${S1}/1`, line: 1, restart: true, text: 'a\n' }, { to: `${S1}/1`, line: 2, restart: false, text: 'b\n' }, { to: `${S1}/1`, line: 3, restart: false, text: 'c\n' },
      ]);
      expect(src.unacknowledged).toBe(3);
      const ack = (core: number, stream: number, upTo: number) => link.emit('frame', link.fromDime(core, ACK.code, encodePayload(ACK.request!, { stream, upTo })));
      ack(2, 99, 3); // not from the first stage: ignored
      ack(1, 98, 3); // another stream: ignored
      expect(src.unacknowledged).toBe(3);
      ack(1, 99, 1);
      expect(src.unacknowledged).toBe(2);
      link.sent.length = 0;
      src.retarget({ server: S1, core: 2 });
      expect(link.lines()).toEqual([{ to: `${S1}/2`, line: 2, restart: true, text: 'b\n' }, { to: `${S1}/2`, line: 3, restart: false, text: 'c\n' }]);
      ack(2, 99, 3);
      expect(src.unacknowledged).toBe(0);
      expect(src.stats).toEqual({ sent: 5, resent: 2, acked: 3 });
    } finally {
      src.close();
    }
  });
});
