// Interop with QEMU 7.2 on one virtual LAN, driven from guest kernels (test/net/guest):
// - the arp-probe kernel in parallax-emu, on a hub that QEMU's user network (slirp) joins,
//   asks who-has 10.0.2.2 and prints slirp's answer; the same kernel in a QEMU VM with
//   -device e1000 on slirp directly must print exactly the same transcript;
// - the lan-hello kernel in parallax-emu and in a QEMU VM on the same hub find each other.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { formatMac, macFromName } from '../../src/net/mac.js';
import {
  buildNicGuests, EMU_CLI, haveCommand, hubConnections, nicGuestImage, Proc, startEmu, startHub, startQemuSlirpOnHub,
} from './processes.js';
import { until } from '../lib/until.js';
import { scratchDir } from '../lib/scratch-dir.js';

const QEMU = 'qemu-system-x86_64';
const haveQemu = haveCommand(QEMU);
const GUEST_MAC = '52:54:00:12:34:56';
const SLIRP_MAC = '52:55:0a:00:02:02';
const dir = scratchDir('nic-qemu');

/** A QEMU VM booting a NIC test kernel (as test/guest/harness.ts boots the guest kernels). */
function qemuVm(label: string, kernel: string, netArgs: string[], append?: string): Proc {
  const args = ['-machine', 'pc', '-cpu', 'qemu64,vendor=GenuineIntel,+pdpe1gb', '-no-reboot', '-nodefaults',
    '-display', 'none', '-serial', 'stdio', '-monitor', 'none', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-m', '64', '-kernel', nicGuestImage(kernel), ...netArgs];
  if (append) args.push('-append', append);
  return new Proc(label, QEMU, args);
}

if (!haveQemu && process.env.CI) {
  describe('NIC interop with QEMU', () => {
    it('needs qemu-system-x86_64 (CI is set, so its absence is a failure)', () => {
      throw new Error('qemu-system-x86_64 not found: install QEMU (Debian: qemu-system-x86)');
    });
  });
}

describe.skipIf(!haveQemu || !existsSync(EMU_CLI))('NIC interop with QEMU 7.2', () => {
  const procs: Proc[] = [];
  beforeAll(() => buildNicGuests());
  afterEach(async () => { await Promise.all(procs.splice(0).map((p) => p.stop())); });

  it("QEMU's slirp answers the ARP request of a guest in parallax-emu; a QEMU VM running the same kernel prints the same", async () => {
    const sock = join(dir, 'slirp-lan.sock');
    const hub = await startHub(sock);
    procs.push(hub);
    const slirp = startQemuSlirpOnHub(sock);
    procs.push(slirp);
    await until(() => hubConnections(hub) >= 1 || !slirp.running, 20_000, 'QEMU to join the hub');
    expect(slirp.running, slirp.transcript()).toBe(true);

    const emu = startEmu('parallax-emu', ['--kernel', nicGuestImage('arp-probe'), '--cores', '1', '--memory', '64',
      '--net', `hub,path=${sock}`, '--mac', GUEST_MAC]);
    procs.push(emu);
    const vm = qemuVm('qemu-vm', 'arp-probe', ['-netdev', 'user,id=u,net=10.0.2.0/24', '-device', `e1000,netdev=u,mac=${GUEST_MAC}`]);
    procs.push(vm);
    const [emuCode, vmCode] = await Promise.all([emu.exit(30_000), vm.exit(30_000)]);
    expect(emuCode, emu.transcript()).toBe(1);
    expect(vmCode, vm.transcript()).toBe(1);
    expect(emu.out).toContain(`arp: reply 10.0.2.2 is-at ${SLIRP_MAC} (to ${GUEST_MAC}, frame from ${SLIRP_MAC})`);
    expect(emu.out).toBe(vm.out);
    expect(emu.out).toBe([
      `e1000: mac ${GUEST_MAC} (EEPROM)`,
      'e1000: link up',
      'arp: who-has 10.0.2.2 tell 10.0.2.15',
      `arp: reply 10.0.2.2 is-at ${SLIRP_MAC} (to ${GUEST_MAC}, frame from ${SLIRP_MAC})`,
      '',
    ].join('\n'));
  });

  it('a guest in parallax-emu and a guest in a QEMU VM (-device e1000 on -netdev stream) find each other on the hub', async () => {
    const sock = join(dir, 'mixed-lan.sock');
    const hub = await startHub(sock);
    procs.push(hub);
    const emu = startEmu('parallax-emu', ['--kernel', nicGuestImage('lan-hello'), '--cores', '1', '--memory', '64',
      '--name', 'emu1', '--net', `hub,path=${sock}`, '--append', 'name=emu1 peers=1']);
    procs.push(emu);
    const vm = qemuVm('qemu-vm', 'lan-hello', ['-netdev', `stream,id=s,server=off,addr.type=unix,addr.path=${sock}`,
      '-device', `e1000,netdev=s,mac=${GUEST_MAC}`], 'name=qemu1 peers=1');
    procs.push(vm);
    const [emuCode, vmCode] = await Promise.all([emu.exit(30_000), vm.exit(30_000)]);
    expect(emuCode, emu.transcript()).toBe(1);
    expect(vmCode, vm.transcript()).toBe(1);
    expect(emu.out).toContain(`peer qemu1 at ${GUEST_MAC}: heard its HELLO, it acknowledged ours`);
    expect(vm.out).toContain(`peer emu1 at ${formatMac(macFromName('emu1'))}: heard its HELLO, it acknowledged ours`);
  });
});
