// Local storage: grant a DIME's service files of its server's store, and read each DIME's
// storage accounting (docs/STORAGE.md).
import type { CliContext } from '../cli-context.js';
import { table } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { centralCounters, storageCounters, storageGrant, type CentralClientCounters, type StorageCounters } from '../storage.js';
import { dimesNamed, dimeVerb } from './dime-list.js';
import { FOR_OPTION } from './watch.js';
import { verb, str } from './verb.js';
import { exportFile, exportsDir, exportsTable, listExports, watchExports } from './central-storage.js';

export function storageVerbs(ctx: CliContext) {
  return [
    dimeVerb(ctx, {
      command: 'grant <dime> [prefix]',
      describe: "let a DIME's service read (--read) and/or write (--write) the files of its server's store whose names start with PREFIX (none: every file); --revoke withdraws",
      builder: (y) => y.positional('dime', { type: 'string' }).positional('prefix', { type: 'string', default: '' })
        .option('read', { type: 'boolean', default: false }).option('write', { type: 'boolean', default: false }).option('revoke', { type: 'boolean', default: false }),
      run: async (o, d, argv) => {
        const revoke = !!argv.revoke;
        if (revoke === (!!argv.read || !!argv.write)) throw new UsageError('give --read and/or --write, or --revoke alone');
        const prefix = str(argv.prefix);
        const grants = await storageGrant(o, d, prefix, revoke ? {} : { read: !!argv.read, write: !!argv.write });
        return { ok: true as const, dime: o.label(d), prefix, read: !!argv.read, write: !!argv.write, grants };
      },
      human: (_c, r) => `${r.dime}: ${r.read || r.write ? `may ${[r.read && 'read', r.write && 'write'].filter(Boolean).join(' and ')}` : 'no longer touches'} '${r.prefix}*' (${r.grants} grant${r.grants === 1 ? '' : 's'})`,
    }),
    verb(ctx, {
      command: 'storage <dimes..>',
      describe: "local storage accounting of DIMEs (SERVER/CORE, or SERVER for all its DIMEs); 'storage export PATH --name N [--readonly] [--grant DIME[:r]]...' serves a host file to DIMEs of every server (central storage, until interrupted); 'storage list' shows the running exports; 'storage watch' their counters every --interval ms",
      builder: (y) => y.positional('dimes', { type: 'string', array: true, describe: 'SERVER/CORE, or SERVER for all its DIMEs; or export PATH | list | watch' })
        .option('name', { type: 'string', describe: 'export: the name DIMEs open it by ("@NAME"); default: the file name' })
        .option('readonly', { type: 'boolean', default: false, describe: 'export: nobody writes it' })
        .option('grant', { type: 'string', array: true, describe: 'export: DIME (SERVER/CORE or SERVER) that may read and write it; DIME:r read only' })
        .option('max-size', { type: 'number', default: 64 * 1024 * 1024, describe: 'export: bytes it may grow to' })
        .option('exports-dir', { type: 'string', describe: 'where running exports publish their counters (default ~/.parallax/exports, or PARALLAX_EXPORTS)' })
        .option('for', { ...FOR_OPTION, describe: `export/watch: ${FOR_OPTION.describe}` })
        .option('interval', { type: 'number', default: 1000, describe: 'watch: ms between reports' }),
      run: async (c, argv) => {
        const words = argv.dimes as string[];
        const dir = exportsDir(c, argv['exports-dir'] as string | undefined);
        if (words[0] === 'export') return exportFile(c, words.slice(1), dir, argv);
        if (words[0] === 'list' && words.length === 1) return { exports: listExports(dir) };
        if (words[0] === 'watch' && words.length === 1) return watchExports(c, dir, argv.interval as number, argv.for as number);
        const o = await c.orchestrator();
        const out: Array<{ dime: string } & StorageCounters & { central: CentralClientCounters }> = [];
        for (const d of await dimesNamed(o, words)) out.push({ dime: o.label(d), ...(await storageCounters(o, d)), central: await centralCounters(o, d) });
        return { dimes: out };
      },
      human: (_c, r) => {
        if (!r) return undefined;
        if ('dimes' in r) {
          const local = table(['DIME', 'STORE', 'FILES', 'GRANTS', 'OPENS', 'READS', 'WRITES', 'READ B', 'WRITTEN B', 'REFUSED', 'ERRORS'],
            r.dimes.map((d) => [d.dime, d.store === 'ready' ? `${d.diskSectors / 2048} MiB` : d.store, d.store === 'ready' ? `${d.files}/${d.slots}` : '-',
              String(d.grants), String(d.opens), String(d.reads), String(d.writes), String(d.bytesRead), String(d.bytesWritten), String(d.refused), String(d.errors)]));
          const central = r.dimes.filter((d) => d.central.exports || d.central.requests || d.central.refused);
          return central.length === 0 ? local : `${local}\n\ncentral storage (@exports):\n${table(['DIME', 'EXPORTS', 'OPENS', 'READ B', 'WRITTEN B', 'REQUESTS', 'RESENT', 'LATE', 'REFUSED', 'ERRORS'],
            central.map((d) => [d.dime, String(d.central.exports), String(d.central.opens), String(d.central.bytesRead), String(d.central.bytesWritten),
              String(d.central.requests), String(d.central.resent), String(d.central.lateAnswers), String(d.central.refused), String(d.central.errors)]))}`;
        }
        if ('exports' in r) return exportsTable(r.exports, r.clients);
        return undefined;
      },
    }),
  ];
}
