// The split virtqueue walked from the device side: chains of direct and indirect descriptors,
// ring wrap-around, the used ring's layout, and every malformed shape refused with a reason.
import { describe, expect, it } from 'vitest';
import { Virtqueue, VirtqueueError } from '../../../src/devices/virtio/virtqueue.js';
import { FlatMemory } from './test-driver.js';

const DESC = 0x1000;
const AVAIL = 0x2000;
const USED = 0x3000;

function setup(size = 8) {
  const mem = new FlatMemory(0x10000);
  const q = new Virtqueue(mem, size);
  q.descAddr = DESC; q.availAddr = AVAIL; q.usedAddr = USED; q.ready = true;
  let availIdx = 0;
  const desc = (i: number, addr: number, len: number, flags: number, next = 0, table = DESC) => {
    const at = table + 16 * i;
    mem.view.setUint32(at, addr, true); mem.view.setUint32(at + 4, 0, true);
    mem.view.setUint32(at + 8, len, true); mem.view.setUint16(at + 12, flags, true); mem.view.setUint16(at + 14, next, true);
  };
  const offer = (head: number) => {
    mem.view.setUint16(AVAIL + 4 + 2 * (availIdx % q.size), head, true);
    availIdx = (availIdx + 1) & 0xffff;
    mem.view.setUint16(AVAIL + 2, availIdx, true);
  };
  return { mem, q, desc, offer };
}

describe('split virtqueue', () => {
  it('takes a chain: readable buffers, then writable ones', () => {
    const { q, desc, offer } = setup();
    desc(2, 0x8000, 16, 1, 5);
    desc(5, 0x8100, 512, 1 | 2, 1);
    desc(1, 0x8400, 1, 2);
    offer(2);
    expect(q.pending()).toBe(1);
    const c = q.pop()!;
    expect(c.head).toBe(2);
    expect(c.readable).toEqual([{ addr: 0x8000, len: 16 }]);
    expect(c.writable).toEqual([{ addr: 0x8100, len: 512 }, { addr: 0x8400, len: 1 }]);
    expect([c.readableBytes, c.writableBytes]).toEqual([16, 513]);
    expect(q.pop()).toBeNull();
  });

  it('gathers and scatters across buffer boundaries', () => {
    const { mem, q, desc, offer } = setup();
    mem.bytes.set([1, 2, 3], 0x8000); mem.bytes.set([4, 5], 0x9000);
    desc(0, 0x8000, 3, 1, 1); desc(1, 0x9000, 2, 1, 2); desc(2, 0xa000, 2, 3, 3); desc(3, 0xb000, 3, 2);
    offer(0);
    const c = q.pop()!;
    const got = new Uint8Array(4);
    expect(q.gather(c, 1, got)).toBe(4);
    expect([...got]).toEqual([2, 3, 4, 5]);
    expect(q.scatter(c, 1, Uint8Array.of(9, 8, 7))).toBe(3);
    expect([...mem.bytes.subarray(0xa000, 0xa002)]).toEqual([0, 9]);
    expect([...mem.bytes.subarray(0xb000, 0xb003)]).toEqual([8, 7, 0]);
  });

  it('writes used elements and wraps the 16-bit indices', () => {
    const { mem, q, desc } = setup(4);
    desc(0, 0x8000, 1, 2);
    q.lastAvail = q.usedIdx = 0xfffe;
    // offer by hand from avail.idx 0xfffe, through the wrap
    for (const idx of [0xfffe, 0xffff, 0]) {
      mem.view.setUint16(AVAIL + 4 + 2 * (idx % 4), 0, true);
      mem.view.setUint16(AVAIL + 2, (idx + 1) & 0xffff, true);
      const c = q.pop()!;
      q.push(c.head, 7);
    }
    expect(mem.view.getUint16(USED + 2, true)).toBe(1);
    expect(mem.view.getUint32(USED + 4 + 8 * (0xffff % 4), true)).toBe(0);
    expect(mem.view.getUint32(USED + 4 + 8 * (0xffff % 4) + 4, true)).toBe(7);
    expect(q.pop()).toBeNull();
  });

  it('follows an indirect table only when negotiated', () => {
    const { q, desc, offer } = setup();
    const T = 0x6000;
    desc(0, 0x8000, 16, 1, 1, T); desc(1, 0x8100, 4096, 1 | 2, 2, T); desc(2, 0x9200, 1, 2, 0, T);
    desc(3, T, 48, 4);
    offer(3);
    expect(() => q.pop()).toThrow(/without VIRTIO_RING_F_INDIRECT_DESC/);
    q.indirect = true;
    offer(3);
    const c = q.pop()!;
    expect(c.head).toBe(3);
    expect(c.readable.length + c.writable.length).toBe(3);
    expect(c.writableBytes).toBe(4097);
  });

  const bad: [string, (s: ReturnType<typeof setup>) => void, RegExp][] = [
    ['a loop', ({ desc, offer }) => { desc(0, 0x8000, 1, 1, 1); desc(1, 0x8000, 1, 1, 0); offer(0); }, /loops/],
    ['a link past the table', ({ desc, offer }) => { desc(0, 0x8000, 1, 1, 99); offer(0); }, /past its table/],
    ['a head past the table', ({ offer }) => { offer(40); }, /past the descriptor table/],
    ['readable after writable', ({ desc, offer }) => { desc(0, 0x8000, 1, 3, 1); desc(1, 0x8000, 1, 0); offer(0); }, /readable buffer after a writable/],
    ['nested indirect', ({ q, desc, offer }) => { q.indirect = true; desc(0, 0x6000, 16, 4, 0, 0x6000); desc(0, 0x6000, 16, 4); offer(0); }, /inside an indirect/],
    ['indirect table of odd size', ({ q, desc, offer }) => { q.indirect = true; desc(0, 0x6000, 20, 4); offer(0); }, /not a multiple/],
    ['avail index far ahead', ({ mem }) => { mem.view.setUint16(AVAIL + 2, 100, true); }, /ahead of the device/],
  ];
  for (const [what, make, msg] of bad) {
    it(`refuses ${what}`, () => {
      const s = setup();
      make(s);
      expect(() => s.q.pop()).toThrow(VirtqueueError);
      s.q.lastAvail = 0;
      expect(() => s.q.pop()).toThrow(msg);
    });
  }

  it('saves and restores its state', () => {
    const { q } = setup();
    q.lastAvail = 5; q.usedIdx = 4; q.size = 4;
    const q2 = new Virtqueue(new FlatMemory(16), 8);
    q2.restoreState(JSON.parse(JSON.stringify(q.saveState())));
    expect(q2.saveState()).toEqual(q.saveState());
    expect(() => q2.restoreState({ ...q.saveState(), size: 16 })).toThrow();
  });
});
