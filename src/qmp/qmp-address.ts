// Where -qmp listens, as QEMU spells it; apart from the server so the command line can check it
// without loading QMP.

export class QmpSpecError extends Error {}

export type QmpAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

/** "unix:PATH,server,wait=off" / "tcp:HOST:PORT,server=on,wait=off" -> where to listen. */
export function parseQmpSpec(spec: string): QmpAddress {
  const [where, ...opts] = spec.split(',');
  for (const o of opts) {
    if (o === 'server' || o === 'server=on' || o === 'wait=off' || o === 'nowait') continue;
    if (o === 'wait=on' || o === 'wait') throw new QmpSpecError(`-qmp ${spec}: wait=on (start only once a client connects) is not supported: use wait=off with -S, then cont`);
    if (o === 'server=off') throw new QmpSpecError(`-qmp ${spec}: only server mode is supported (parallax-emu listens, the client connects)`);
    throw new QmpSpecError(`-qmp ${spec}: unknown option '${o}'`);
  }
  if (!opts.some((o) => o.startsWith('server'))) throw new QmpSpecError(`-qmp ${spec}: add ,server,wait=off (parallax-emu listens for the client)`);
  if (where.startsWith('unix:') && where.length > 5) return { kind: 'unix', path: where.slice(5) };
  const m = /^tcp:([^:]*):(\d+)$/.exec(where);
  if (m && Number(m[2]) <= 65535) return { kind: 'tcp', host: m[1] || '127.0.0.1', port: Number(m[2]) };
  throw new QmpSpecError(`-qmp ${spec}: expected unix:PATH,server,wait=off or tcp:HOST:PORT,server,wait=off`);
}
