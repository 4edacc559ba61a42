// lab: start a hub and emulated DIME servers on this host (parallax-emu), print how to join,
// and keep them running until interrupted. For trying the orchestrator without hardware.
// Every server's console lines are printed whole with an `S1| ` prefix; with --console the
// lines typed on the lab's stdin go to a chosen server's console (lab-console.ts).
import { createInterface } from 'node:readline';
import type { CliContext } from '../cli-context.js';
import { UsageError } from '../errors.js';
import { Lab } from '../lab.js';
import { LabConsoleInput, labConsoleHint } from '../lab-console.js';
import { FOR_OPTION, untilStopped } from './watch.js';
import { verb } from './verb.js';

export function labVerbs(ctx: CliContext) {
  return [
    verb(ctx, {
      command: 'lab',
      describe: 'start emulated DIME servers on a virtual LAN here (until interrupted)',
      builder: (y) => y.option('servers', { type: 'number', default: 2 }).option('cores', { type: 'number', default: 4 })
        .option('heartbeat', { type: 'number', default: 1000, describe: 'heartbeat interval (ms)' })
        .option('dir', { type: 'string', describe: 'directory for the hub socket' })
        .option('boot', { type: 'string', describe: "'n': every server boots from the LAN (-boot n) from the lab's own boot server" })
        .option('console', { type: 'boolean', default: false, describe: "type stdin's lines on a server's console ('S2> text', '>S2'); end of input stops the lab" })
        .option('for', FOR_OPTION),
      run: async (c, argv) => {
        const n = argv.servers as number;
        const cores = argv.cores as number;
        if (!Number.isInteger(n) || n < 1 || n > 16) throw new UsageError('--servers must be 1-16');
        if (!Number.isInteger(cores) || cores < 1 || cores > 16) throw new UsageError('--cores must be 1-16');
        const key = c.key();
        if (!key) throw new UsageError('lab: give the master secret the servers\' keys derive from (--key-file, PARALLAX_KEY, or --lab)');
        const servers = Array.from({ length: n }, (_, i) => ({ name: `S${i + 1}`, mac: `52:54:00:00:01:${(i + 1).toString(16).padStart(2, '0')}`, cores }));
        const boot = argv.boot as string | undefined;
        if (boot !== undefined && boot !== 'n') throw new UsageError(`--boot ${boot}: only 'n' (network boot) is offered; without --boot the servers load the kernel directly`);
        const lab = new Lab({ servers, key, heartbeatMs: argv.heartbeat as number, dir: argv.dir as string | undefined, netBoot: boot === 'n' });
        await lab.start();
        const aliases = Object.entries(lab.aliases).map(([k, v]) => `${k}=${v}`).join(',');
        if (c.json) c.emitJson({ net: lab.netSpec, aliases: lab.aliases, servers: servers.map((s) => s.name) });
        else c.out(`lab: ${n} servers x ${cores} DIMEs on ${lab.netSpec}\n  export PARALLAX_NET='${lab.netSpec}' PARALLAX_ALIASES='${aliases}'` +
          '\n  (and the same key: PARALLAX_KEY / PARALLAX_KEY_FILE / --lab as here; the key is never printed)');
        // whole lines only: a line still being printed waits for its end (a poll must not cut it)
        const forward = (s: (typeof lab.servers)[number]) => {
          let seen = s.output.length;
          return setInterval(() => {
            const end = s.output.lastIndexOf('\n') + 1;
            if (end <= seen) return;
            const more = s.output.slice(seen, end);
            seen = end;
            for (const line of more.split('\n').filter(Boolean)) if (!c.json) c.out(`${s.opts.name}| ${line}`);
          }, 200);
        };
        const timers = lab.servers.map(forward);
        // not by default: a lab started in the background (`&`) that read the terminal would be
        // stopped by the shell (SIGTTIN), its servers with it
        const input = argv.console ? createInterface({ input: c.io.stdin, crlfDelay: Infinity, terminal: false }) : null;
        let inputEnded: Promise<void> | undefined;
        if (input) {
          const names = lab.servers.map((s) => s.opts.name);
          const typing = new LabConsoleInput(names, { type: (name, text) => lab.server(name).type(text), say: (m) => c.err(`lab: ${m}`) });
          input.on('line', (l) => typing.line(l));
          inputEnded = new Promise((resolve) => input.once('close', () => resolve()));
          if (!c.json) c.out(labConsoleHint(names));
        }
        try {
          await untilStopped(argv.for as number, inputEnded);
        } finally {
          input?.close();
          timers.forEach(clearInterval);
          await lab.stop();
        }
        return undefined;
      },
    }),
  ];
}
