// TAP backend against a real kernel: the tap device is created by the backend, moved into a
// private network namespace (the fd keeps working across the move), given an address there,
// and the namespace's kernel must answer our ARP request and ping through it.
// Needs CAP_NET_ADMIN; skipped with the reason otherwise.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { TapBackend, tapPermissionMessage } from '../../src/net/backends/tap.js';
import { BROADCAST } from '../devices/e1000/e1000-harness.js';

function capNetAdmin(): string | null {
  if (process.platform !== 'linux') return 'not Linux';
  if (!existsSync('/dev/net/tun')) return '/dev/net/tun is missing';
  if (spawnSync('ip', ['-V']).status !== 0) return 'the ip command (iproute2) is missing';
  const m = /CapEff:\s*([0-9a-f]+)/.exec(readFileSync('/proc/self/status', 'utf8'));
  if (!m || !((BigInt('0x' + m[1]) >> 12n) & 1n)) return 'no CAP_NET_ADMIN (run as root to test TAP)';
  return null;
}
const whyNot = capNetAdmin();
if (whyNot) console.warn(`TAP tests skipped: ${whyNot}`);

describe('tap backend', () => {
  it('explains the one-time setup when permission is denied', () => {
    const msg = tapPermissionMessage('ptap0', 1, 'attach (TUNSETIFF)');
    expect(msg).toContain('sudo ip tuntap add dev ptap0 mode tap user $USER');
    expect(msg.includes('\n')).toBe(false);
    expect(tapPermissionMessage('ptap0', 16, 'attach')).toMatch(/busy/);
  });

  it.skipIf(whyNot !== null)('exchanges frames with a kernel network stack in a namespace (ARP and ICMP echo)', async () => {
    const tag = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
    const ifname = `pxt${tag}`;
    const ns = `pxns${tag}`;
    const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8' });
    ip('netns', 'add', ns);
    let tap: TapBackend | null = null;
    try {
      tap = new TapBackend(ifname);
      const got: Uint8Array[] = [];
      tap.onReceive((f) => got.push(f.slice()));
      ip('link', 'set', ifname, 'netns', ns);
      ip('-n', ns, 'addr', 'add', '10.213.7.1/24', 'dev', ifname);
      ip('-n', ns, 'link', 'set', ifname, 'up');
      const mac = Uint8Array.of(0x5a, 0x50, 7, 7, 7, 7);
      const arp = new Uint8Array(42);
      arp.set(BROADCAST, 0); arp.set(mac, 6);
      arp.set([0x08, 0x06, 0, 1, 0x08, 0x00, 6, 4, 0, 1], 12);
      arp.set(mac, 22); arp.set([10, 213, 7, 2], 28); arp.set([10, 213, 7, 1], 38);
      const isArpReply = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x06 && f[21] === 2;
      for (let i = 0; i < 40 && !got.some(isArpReply); i++) {
        tap.send(arp);
        await new Promise((r) => setTimeout(r, 50));
      }
      const reply = got.find(isArpReply);
      expect(reply, 'no ARP reply from the namespace').toBeDefined();
      const kernelMac = reply!.subarray(22, 28);
      expect(Array.from(reply!.subarray(28, 32))).toEqual([10, 213, 7, 1]);

      // ICMP echo request 10.213.7.2 -> 10.213.7.1
      const ping = new Uint8Array(14 + 20 + 8 + 16);
      ping.set(kernelMac, 0); ping.set(mac, 6); ping[12] = 0x08; ping[13] = 0x00;
      const h = 14;
      ping.set([0x45, 0, 0, 44, 0x12, 0x34, 0x40, 0, 64, 1, 0, 0, 10, 213, 7, 2, 10, 213, 7, 1], h);
      setChecksum(ping, h, h + 20, h + 10);
      ping.set([8, 0, 0, 0, 0xbe, 0xef, 0, 1], h + 20);
      for (let i = 0; i < 16; i++) ping[h + 28 + i] = i;
      setChecksum(ping, h + 20, ping.length, h + 22);
      const isEchoReply = (f: Uint8Array): boolean => f[12] === 0x08 && f[13] === 0x00 && f[23] === 1 && f[34] === 0;
      for (let i = 0; i < 40 && !got.some(isEchoReply); i++) {
        tap.send(ping);
        await new Promise((r) => setTimeout(r, 50));
      }
      const echo = got.find(isEchoReply);
      expect(echo, 'no ICMP echo reply').toBeDefined();
      expect(Array.from(echo!.subarray(h + 20 + 4, h + 20 + 8))).toEqual([0xbe, 0xef, 0, 1]);
      expect(tap.stats.rxFrames).toBeGreaterThanOrEqual(2);
      expect(tap.stats.txFrames).toBeGreaterThanOrEqual(2);
    } finally {
      await tap?.close();
      spawnSync('ip', ['netns', 'del', ns]);
    }
    expect(spawnSync('ip', ['link', 'show', ifname]).status).not.toBe(0); // the device went with its fd
  });

  it.skipIf(whyNot !== null)('reports a clear error for an interface name that cannot be a tap', async () => {
    // "lo" exists and is not a tun/tap device
    expect(() => new TapBackend('lo')).toThrow(/tap backend: cannot attach/);
  });
});

function setChecksum(b: Uint8Array, start: number, end: number, at: number): void {
  b[at] = 0; b[at + 1] = 0;
  let s = 0;
  for (let i = start; i < end; i += 2) s += (b[i] << 8) | (i + 1 < end ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  const c = ~s & 0xffff;
  b[at] = c >>> 8; b[at + 1] = c & 0xff;
}
