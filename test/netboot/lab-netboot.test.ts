// `parallax-orch lab --boot n`: every server of a lab boots from the LAN. The Lab runs its own
// boot server on the hub (the DIME kernel, the lab's command line, each frame signed with the
// requesting server's key); the servers start with -boot n and no kernel, and an orchestrator
// then finds every DIME, as in a lab whose servers load the kernel directly.
import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { startLabWithOrchestrator } from '../orchestrator/lab-orchestrator.js';

describe('lab --boot n', () => {
  it('boots every server from the lab\'s boot server, and the orchestrator finds all their DIMEs', async () => {
    const key = randomBytes(32).toString('hex');
    const servers = [
      { name: 'S1', mac: '52:54:00:4e:4c:01', cores: 2 },
      { name: 'S2', mac: '52:54:00:4e:4c:02', cores: 1 },
    ];
    const { lab, o } = await startLabWithOrchestrator({ servers, key, netBoot: true, memMiB: 64, heartbeatMs: 500 }, '02:50:00:00:4c:01');
    try {
      for (const s of lab.servers) {
        expect(s.output).toMatch(/netboot/i); // the firmware ran, not a directly loaded kernel
        expect(s.output).toMatch(/hb=500/); // the command line came from the lab's boot server
      }
      expect(lab.bootServer!.stats.served).toBe(2);
      expect(lab.bootServer!.stats.refusedForged + lab.bootServer!.stats.refusedReplayed).toBe(0);
    } finally {
      await o.close();
      await lab.stop();
    }
  }, 240_000);
});
