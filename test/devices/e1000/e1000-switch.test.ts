// End to end: two e1000 models, each on its own hub client, exchange frames through the hub:
// a frame placed in one NIC's transmit ring lands in the other NIC's receive ring.

import { join } from 'node:path';
import { expect, it } from 'vitest';
import { openNetBackend } from '../../../src/net/backends/open-backend.js';
import * as R from '../../../src/devices/e1000/regs.js';
import { LearningSwitch } from '../../../src/net/learning-switch.js';
import { macFromName } from '../../../src/net/mac.js';
import { Harness, TX_BUFS, ethFrame } from './e1000-harness.js';
import { scratchDir } from '../../lib/scratch-dir.js';
import { until } from '../../lib/until.js';

const dir = scratchDir('nic-e2e');

it('two e1000s talk through the hub (TX ring -> hub -> RX ring, link comes up with the connection)', async () => {
  const path = join(dir, 'lan.sock');
  const hub = new LearningSwitch();
  await hub.listen({ kind: 'unix', path });
  const macA = macFromName('alpha', 0);
  const macB = macFromName('beta', 0);
  const a = new Harness({ mac: macA });
  const b = new Harness({ mac: macB });
  const ba = await openNetBackend(`hub,path=${path}`);
  const bb = await openNetBackend(`hub,path=${path}`);
  a.nic.attachBackend(ba);
  b.nic.attachBackend(bb);
  await until(() => a.nic.linkUp() && b.nic.linkUp());
  for (const h of [a, b]) {
    h.rd(R.ICR);
    h.wr(R.IMS, R.ICR_RXT0 | R.ICR_LSC);
    h.setupRx(8);
    h.setupTx(8);
  }
  const frames = [ethFrame(macB, macA, 100), ethFrame(Uint8Array.of(255, 255, 255, 255, 255, 255), macA, 1000)];
  frames.forEach((f, i) => a.putLegacyTx(TX_BUFS + i * 0x1000, f, R.TXD_CMD_EOP | R.TXD_CMD_RS));
  a.kickTx();
  await until(() => b.rd(R.RDH) === 2);
  expect(b.irq.level).toBe(true);
  expect(b.rxDesc(0).data.subarray(0, 114)).toEqual(frames[0]);
  expect(b.rxDesc(1).len).toBe(1014 + 4);
  // reply, unicast: the hub has learned A
  b.putLegacyTx(TX_BUFS, ethFrame(macA, macB, 60), R.TXD_CMD_EOP | R.TXD_CMD_RS);
  b.kickTx();
  await until(() => a.rd(R.RDH) === 1);
  expect(hub.stats.forwarded).toBe(1); // A was learned from its first frame
  // hub goes away: both links drop (LSC)
  await hub.close();
  await until(() => !a.nic.linkUp() && !b.nic.linkUp());
  expect(a.rd(R.ICR) & R.ICR_LSC).toBe(R.ICR_LSC);
  await ba.close();
  await bb.close();
});
