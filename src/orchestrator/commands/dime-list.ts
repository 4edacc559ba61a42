// The DIMEs a command names: SERVER/CORE as given, SERVER as every DIME it answers for.
import type { Orchestrator } from '../orchestrator.js';
import { UsageError } from '../errors.js';
import { parseTarget, type DimeAddress } from '../targets.js';

export async function dimesNamed(o: Orchestrator, texts: readonly string[]): Promise<DimeAddress[]> {
  const out: DimeAddress[] = [];
  for (const text of texts) {
    const t = parseTarget(text, o.names);
    if (t.core !== null) { out.push(t as DimeAddress); continue; }
    await o.discover(t.server, 400);
    const dimes = o.model.dimesOf(t.server);
    if (!dimes.length) throw new UsageError(`server ${text} did not answer`);
    out.push(...dimes);
  }
  return out;
}
