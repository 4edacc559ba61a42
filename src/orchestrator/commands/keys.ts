// keys: hand a server its own key file, derived from the master secret (docs/PROTOCOL.md,
// "Keys"); the server gets it through fw_cfg and never learns the master secret.
import { openSync, writeSync, closeSync } from 'node:fs';
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { parseMac, macToString } from '../../protocol/codec.js';
import { FW_CFG_KEY_NAME, serverKeyFile } from '../../protocol/keys.js';
import { verb, str } from './verb.js';

export function keysVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'keys server <mac>',
      describe: 'write the key file of the server with this MAC (mode 0600), derived from the master secret',
      builder: (y) => y.positional('mac', { type: 'string' })
        .option('out', { type: 'string', demandOption: true, describe: 'file to create (must not exist)' }),
      run: async (c, argv) => {
        let mac: string;
        try {
          mac = macToString(parseMac(str(argv.mac)));
        } catch {
          throw new UsageError(`keys server: '${str(argv.mac)}' is not a MAC address`);
        }
        const master = c.key();
        if (!master) throw new UsageError('keys server: no master secret (--key-file FILE or PARALLAX_KEY)');
        const out = str(argv.out);
        let fd: number;
        try {
          fd = openSync(out, 'wx', 0o600); // never over an existing file, never readable by others
        } catch (e) {
          throw new UsageError(`keys server: cannot create ${out}: ${(e as Error).message}`);
        }
        try { writeSync(fd, serverKeyFile(master, mac)); } finally { closeSync(fd); }
        return { mac, file: out, qemu: `-fw_cfg name=${FW_CFG_KEY_NAME},file=${out}`, emu: `--key-file ${out}` };
      },
      human: (_c, r) => `wrote ${r.file} for server ${r.mac}: start it with ${r.emu} (parallax-emu) or ${r.qemu} (QEMU)`,
    }),
  ];
}
