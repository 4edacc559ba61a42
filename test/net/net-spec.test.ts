import { describe, expect, it } from 'vitest';
import { formatMac, macFromName, macKey, parseMac } from '../../src/net/mac.js';
import { parseNetSpec } from '../../src/net/net-spec.js';

describe('parseNetSpec', () => {
  it('parses every backend form', () => {
    expect(parseNetSpec('none')).toEqual({ type: 'none' });
    expect(parseNetSpec('stream,host=10.0.0.1,port=5555')).toEqual({ type: 'stream', server: false, address: { kind: 'inet', host: '10.0.0.1', port: 5555 } });
    expect(parseNetSpec('stream,port=5555,server=on')).toEqual({ type: 'stream', server: true, address: { kind: 'inet', host: '127.0.0.1', port: 5555 } });
    expect(parseNetSpec('stream,path=/tmp/a,,b.sock,server=on')).toEqual({ type: 'stream', server: true, address: { kind: 'unix', path: '/tmp/a,b.sock' } });
    expect(parseNetSpec('stream,id=n0,server=off,addr.type=unix,addr.path=/tmp/x')).toEqual({ type: 'stream', server: false, address: { kind: 'unix', path: '/tmp/x' } });
    expect(parseNetSpec('stream,addr.type=inet,addr.host=h,addr.port=1')).toEqual({ type: 'stream', server: false, address: { kind: 'inet', host: 'h', port: 1 } });
    expect(parseNetSpec('dgram,local.host=127.0.0.1,local.port=4000,remote.host=127.0.0.1,remote.port=4001')).toEqual({
      type: 'dgram', mode: 'unicast', local: { host: '127.0.0.1', port: 4000 }, remote: { host: '127.0.0.1', port: 4001 },
    });
    expect(parseNetSpec('dgram,remote.type=inet,remote.host=230.0.0.1,remote.port=1234')).toEqual({ type: 'dgram', mode: 'multicast', group: '230.0.0.1', port: 1234, localHost: undefined });
    expect(parseNetSpec('tap,ifname=ptap0')).toEqual({ type: 'tap', ifname: 'ptap0' });
    expect(parseNetSpec('hub,path=/run/lan.sock')).toEqual({ type: 'hub', address: { kind: 'unix', path: '/run/lan.sock' } });
    expect(parseNetSpec('hub,port=7000')).toEqual({ type: 'hub', address: { kind: 'inet', host: '127.0.0.1', port: 7000 } });
  });

  it('rejects bad specs with clear messages', () => {
    const bad: [string, RegExp][] = [
      ['', /expected one of/],
      ['ethernet', /unknown backend type 'ethernet'/],
      ['none,x=1', /unknown option 'x'/],
      ['stream', /needs path=\/socket or port=P/],
      ['stream,port=99999', /out of range/],
      ['stream,port=abc', /must be a port number/],
      ['stream,port=1,path=/x', /either path= or host=/],
      ['stream,path=/x,server=maybe', /must be on or off/],
      ['stream,path=/x,path=/y', /given twice/],
      ['stream,path', /not key=value/],
      ['stream,port=0', /out of range/],
      ['dgram,local.port=1', /needs remote.host/],
      ['dgram,remote.host=nothost,remote.port=1,local.port=2', /must be an IP address/],
      ['dgram,remote.host=230.0.0.1,remote.port=1,local.port=5', /drop local.port/],
      ['dgram,remote.type=unix,remote.host=1.2.3.4,remote.port=1', /only inet/],
      ['tap', /ifname=NAME/],
      ['tap,ifname=waytoolonginterfacename', /not a valid interface name/],
      ['hub,port=1,server=on', /unknown option 'server'/],
    ];
    for (const [spec, re] of bad) expect(() => parseNetSpec(spec), spec).toThrow(re);
  });
});

describe('MAC addresses', () => {
  it('derives stable, locally administered unicast MACs from a name and index', () => {
    const a = macFromName('node1', 0);
    expect(formatMac(a)).toMatch(/^5a:50:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}:00$/);
    expect(a[0] & 0x03).toBe(0x02); // local, unicast
    expect(macFromName('node1', 0)).toEqual(a);
    expect(formatMac(macFromName('node1', 1)).slice(0, 14)).toBe(formatMac(a).slice(0, 14));
    expect(macFromName('node2', 0)).not.toEqual(a);
    expect(macFromName('node1', 256)).not.toEqual(a);
    expect(() => macFromName('x', -1)).toThrow();
  });

  it('keys all 48 bits (MACs differing only in the first bytes stay distinct)', () => {
    expect(macKey(Uint8Array.of(0x5a, 0x50, 0, 0, 0, 1))).toBe(0x5a5000000001);
    expect(macKey(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff))).toBe(2 ** 48 - 1);
    expect(macKey(Uint8Array.of(0, 0, 0, 0, 0, 1))).not.toBe(macKey(Uint8Array.of(1, 0, 0, 0, 0, 1)));
  });

  it('parses and formats', () => {
    expect(formatMac(parseMac('52:54:00:12:34:56'))).toBe('52:54:00:12:34:56');
    expect(formatMac(parseMac('5A-50-0-1-2-3'))).toBe('5a:50:00:01:02:03');
    expect(() => parseMac('52:54:00:12:34')).toThrow(/six hex bytes/);
    expect(() => parseMac('zz:54:00:12:34:56')).toThrow(/six hex bytes/);
    expect(() => parseMac('01:00:5e:00:00:01')).toThrow(/unicast/);
  });
});
