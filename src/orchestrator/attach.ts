// Joining the LAN the same ways the emulator does: every `--net` spec parallax-emu accepts
// (hub, stream, dgram, tap), plus `packet,ifname=NAME` for a real interface through an
// AF_PACKET socket (koffi). Waits until the "cable" is plugged so the first command is not lost.
import { openNetBackend } from '../net/backends/open-backend.js';
import type { NetBackend } from '../net/net-backend.js';
import { NetSpecError } from '../net/net-spec.js';
import { OrchestratorError, UsageError } from './errors.js';
import { PacketBackend, PacketBackendError, parsePacketSpec } from '../net/backends/packet.js';

export async function openLan(spec: string, opts: { mac?: Uint8Array; linkTimeoutMs?: number } = {}): Promise<NetBackend> {
  let backend: NetBackend;
  try {
    const packet = parsePacketSpec(spec);
    backend = packet ? new PacketBackend(packet.ifname) : await openNetBackend(spec, { mac: opts.mac });
  } catch (e) {
    if (e instanceof NetSpecError) throw new UsageError(`--net: ${e.message}`);
    if (e instanceof PacketBackendError) throw new UsageError(e.message);
    if (e instanceof OrchestratorError) throw e;
    throw new OrchestratorError(`cannot join the LAN '${spec}': ${(e as Error).message}`);
  }
  if (spec.trim() === 'none') return backend;
  const deadline = Date.now() + (opts.linkTimeoutMs ?? 3000);
  while (!backend.linkUp() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  if (!backend.linkUp()) {
    await backend.close();
    throw new OrchestratorError(`cannot join the LAN '${spec}': no link after ${opts.linkTimeoutMs ?? 3000} ms (is the hub or peer running?)`);
  }
  return backend;
}
