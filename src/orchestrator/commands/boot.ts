// boot-server: answer the network boot firmware of `parallax-emu -boot n` servers on the LAN
// (docs/BOOT.md, "Network boot") until interrupted (or --for ms), printing who was offered
// the image, who fetched it and what was refused.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { CliContext } from '../cli-context.js';
import { processOrchestratorMac } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { openLan } from '../attach.js';
import { BootServer, checkBootImage, type BootEvent, type BootImage } from '../boot-server.js';
import { FOR_OPTION, untilStopped } from './watch.js';
import { verb, str } from './verb.js';

function describeBootEvent(e: BootEvent): string {
  if (e.type === 'offer') return `offer to ${e.mac} (request ${e.attempt})`;
  if (e.type === 'served') return `${e.mac} fetched the image (${e.chunks} chunks in ${e.reads} reads)`;
  return `refused ${e.why} frame from ${e.mac}: ${e.detail}`;
}

export function bootVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'boot-server',
      describe: 'answer network boot requests (parallax-emu -boot n) with a signed kernel image',
      builder: (y) => y.option('image', { type: 'string', demandOption: true, describe: 'Multiboot 1 kernel to serve (e.g. images/dime.elf)' })
        .option('append', { type: 'string', default: '', describe: 'kernel command line sent with it (never keys: those go by fw_cfg)' })
        .option('name', { type: 'string', describe: 'first word of the command line (default: the image file name)' })
        .option('for', FOR_OPTION),
      run: async (c, argv) => {
        const file = str(argv.image);
        let bytes: Buffer;
        try { bytes = readFileSync(file); } catch (e) { throw new UsageError(`boot-server: cannot read --image ${file}: ${(e as Error).message}`); }
        const image: BootImage = { bytes, name: argv.name === undefined ? path.basename(file).slice(0, 16) : str(argv.name), cmdline: str(argv.append) };
        checkBootImage(image);
        const key = c.key();
        if (!key) throw new UsageError('boot-server: no master secret (--key-file FILE, PARALLAX_KEY, or --lab): the firmware accepts only images signed with its server key');
        const net = c.opts.net ?? c.io.env.PARALLAX_NET;
        if (!net) throw new UsageError('boot-server: no LAN given: use --net SPEC (e.g. hub,path=/tmp/lan.sock) or set PARALLAX_NET');
        // runs beside the user's CLI commands on the same LAN: a MAC of its own
        const mac = c.opts.mac ?? c.io.env.PARALLAX_MAC ?? processOrchestratorMac();
        const server = new BootServer(await openLan(net), { key, mac, image });
        const show = (e: BootEvent) => {
          if (c.json) c.emitJson({ at: new Date().toISOString(), ...e });
          else c.out(`${new Date().toISOString().slice(11, 23)} ${describeBootEvent(e)}`);
        };
        server.on('event', show);
        if (!c.json) c.out(`boot-server ${server.mac}: serving ${image.name} (${bytes.length} bytes, SHA-256 ${server.sha256.toString('hex').slice(0, 16)}...), command line "${image.cmdline}"`);
        try {
          await untilStopped(argv.for as number);
        } finally {
          server.off('event', show);
          await server.close();
        }
        return { mac: server.mac, image: image.name, bytes: bytes.length, sha256: server.sha256.toString('hex'), ...server.stats };
      },
      human: (_c, r) => `boot-server: ${r.requests} requests, ${r.served} images served (${r.chunks} chunks), refused ${r.refusedForged} forged, ${r.refusedReplayed} replayed, ${r.refusedMalformed} malformed`,
    }),
  ];
}
