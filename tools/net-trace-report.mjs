#!/usr/bin/env node
// node tools/net-trace-report.mjs DIR: the hops of a frame through the hub and the emulators,
// from the traces PARALLAX_NET_TRACE=DIR left there (src/net/net-trace.ts). For every process
// it follows each received frame through that process (socket read -> interrupt -> the core
// took ICR -> the core's TDT write reached the I/O thread -> frame sent -> written), and the
// hub's own forwarding; prints median, p90 and mean of every hop in microseconds.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
if (!dir) { console.error('usage: node tools/net-trace-report.mjs DIR'); process.exit(2); }

/** events per process, each thread's merged, sorted by time */
const byPid = new Map();
for (const f of readdirSync(dir).filter((n) => n.endsWith('.trace'))) {
  const pid = f.split('-')[0];
  const list = byPid.get(pid) ?? [];
  for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
    const [label, t] = line.split(' ');
    if (label && t) list.push({ label, t: Number(t) });
  }
  byPid.set(pid, list);
}

const stats = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const pick = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return { n: s.length, median: pick(0.5), p90: pick(0.9), mean: s.reduce((a, b) => a + b, 0) / s.length };
};
const show = (name, xs) => {
  if (xs.length === 0) { console.log(`  ${name.padEnd(44)} (none)`); return; }
  const s = stats(xs);
  console.log(`  ${name.padEnd(44)} n=${String(s.n).padStart(5)}  median ${s.median.toFixed(0).padStart(6)}  p90 ${s.p90.toFixed(0).padStart(6)}  mean ${s.mean.toFixed(0).padStart(6)}`);
};

/** in one process: from every `from` event, the next `to` before the next `from` (within 50 ms) */
function hop(ev, from, to) {
  const out = [];
  for (let i = 0; i < ev.length; i++) {
    if (ev[i].label !== from) continue;
    for (let j = i + 1; j < ev.length && ev[j].t - ev[i].t < 50_000; j++) {
      if (ev[j].label === from) break;
      if (ev[j].label === to) { out.push(ev[j].t - ev[i].t); break; }
    }
  }
  return out;
}

const CHAIN = ['rx-data', 'irq', 'icr-applied', 'tdt-applied', 'tx-send', 'tx-written'];
const HOPS = {
  'rx-data>irq': 'socket read -> NIC interrupt raised',
  'irq>icr-applied': 'interrupt -> core took ICR (seen by I/O thread)',
  'icr-applied>tdt-applied': 'ICR taken -> TDT write applied (guest work + doorbell)',
  'tdt-applied>tx-send': 'TDT applied -> frame built',
  'tx-send>tx-written': 'frame built -> written to the socket',
};
for (const [pid, ev] of byPid) {
  ev.sort((a, b) => a.t - b.t);
  const has = (l) => ev.some((e) => e.label === l);
  if (has('hub-in')) {
    console.log(`process ${pid}: hub`);
    show('frame read -> forwarded', hop(ev, 'hub-in', 'hub-out'));
  } else if (has('irq')) {
    console.log(`process ${pid}: emulator`);
    for (let k = 0; k + 1 < CHAIN.length; k++) show(HOPS[`${CHAIN[k]}>${CHAIN[k + 1]}`], hop(ev, CHAIN[k], CHAIN[k + 1]));
    show('socket read -> reply written (whole server)', hop(ev, 'rx-data', 'tx-written'));
  } else {
    console.log(`process ${pid}: peer (orchestrator)`);
    show('request written -> reply read', hop(ev, 'tx-written', 'rx-data'));
  }
}
