// What every `parallax` verb shares: the global options, one orchestrator session per process
// (script mode runs many verbs over it), the state file that remembers routes between runs,
// and output: tables and colours for people, one JSON document (or one object per line for
// streaming verbs) with --json. Colours only on a TTY and never with NO_COLOR.
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { hostname, homedir, userInfo } from 'node:os';
import path from 'node:path';
import { styleText } from 'node:util';
import { macToString, parseMac } from '../protocol/codec.js';
import { KeyFileError, LAB_MASTER, LAB_WARNING, readSecretFile } from '../protocol/keys.js';
import { openLan } from './attach.js';
import { UsageError } from './errors.js';
import { Orchestrator, type OrchestratorState } from './orchestrator.js';
import { ServerNames } from './targets.js';

export interface GlobalOptions {
  net?: string;
  /** refused when given (a key on a command line shows in ps); kept to say so clearly */
  key?: string;
  keyFile?: string;
  lab?: boolean;
  mac?: string;
  alias?: string[];
  json?: boolean;
  timeout?: number;
  state?: string;
  discoverMs?: number;
}

export interface CliIO {
  stdout: NodeJS.WritableStream & { isTTY?: boolean };
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
}

type Style = Parameters<typeof styleText>[0];

/** A stable MAC for this user on this host: DIMEs lock ownership to the orchestrator's MAC. */
export function defaultOrchestratorMac(): string {
  const h = createHash('sha256').update(`${hostname()}:${userInfo().uid}`).digest();
  return macToString(Buffer.from([0x02, 0x50, h[0], h[1], h[2], h[3]]));
}

/**
 * A MAC of its own for a long-running process (dashboard, watch, policy): it runs beside the
 * user's CLI commands, and one LAN cannot have two stations with one MAC (the hub refuses the
 * second). Same user prefix, the last two bytes random.
 */
export function processOrchestratorMac(): string {
  const b = parseMac(defaultOrchestratorMac());
  const r = randomBytes(2);
  b[4] = r[0];
  b[5] = r[1] === b[5] ? r[1] ^ 1 : r[1];
  return macToString(b);
}

export class CliContext {
  private session: Orchestrator | null = null;
  private opening: Promise<Orchestrator> | null = null;
  opts: GlobalOptions = {};
  /** set by script mode: verbs must not close the shared session */
  persistent = false;
  /** set by long-running verbs (dashboard, watch, policy): they get a MAC of their own */
  longRunning = false;

  constructor(readonly io: CliIO) {}

  get json(): boolean {
    return !!this.opts.json;
  }

  get color(): boolean {
    return !this.json && !!this.io.stdout.isTTY && !this.io.env.NO_COLOR;
  }

  paint(style: Style, text: string): string {
    return this.color ? styleText(style, text) : text;
  }

  out(line: string): void {
    this.io.stdout.write(line.endsWith('\n') ? line : `${line}\n`);
  }

  err(line: string): void {
    const c = !!this.io.stderr.isTTY && !this.io.env.NO_COLOR;
    this.io.stderr.write(`${c ? styleText('red', line) : line}\n`);
  }

  /** One JSON document (or one line of a stream). BigInts become strings. */
  emitJson(value: unknown): void {
    this.out(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  }

  names(): ServerNames {
    const specs = [...(this.opts.alias ?? [])];
    if (this.io.env.PARALLAX_ALIASES) specs.unshift(this.io.env.PARALLAX_ALIASES);
    return ServerNames.parse(specs);
  }

  statePath(): string | null {
    const p = this.opts.state ?? this.io.env.PARALLAX_STATE ?? path.join(homedir(), '.parallax', 'state.json');
    return p === '' || p === 'none' ? null : p;
  }

  /**
   * The master secret: --key-file (mode 0600), PARALLAX_KEY_FILE, PARALLAX_KEY, or lab mode's
   * public key (announced loudly). Never from the command line itself.
   */
  key(): string | undefined {
    if (this.opts.key !== undefined) throw new UsageError('--key is refused: a key on a command line is visible to every user (ps); use --key-file FILE (mode 0600) or PARALLAX_KEY');
    const file = this.opts.keyFile ?? this.io.env.PARALLAX_KEY_FILE;
    if (file) {
      try {
        return readSecretFile(file);
      } catch (e) {
        throw new UsageError(e instanceof KeyFileError ? e.message : String(e));
      }
    }
    if (this.io.env.PARALLAX_KEY) return this.io.env.PARALLAX_KEY;
    if (this.opts.lab || this.io.env.PARALLAX_LAB === '1') {
      if (!this.labWarned) this.err(`parallax: ${LAB_WARNING}`);
      this.labWarned = true;
      return LAB_MASTER;
    }
    return undefined;
  }
  private labWarned = false;

  /** The orchestrator, opened on first use. */
  orchestrator(): Promise<Orchestrator> {
    if (this.session) return Promise.resolve(this.session);
    if (!this.opening) this.opening = this.open();
    return this.opening;
  }

  private async open(): Promise<Orchestrator> {
    const net = this.opts.net ?? this.io.env.PARALLAX_NET;
    if (!net) throw new UsageError('no LAN given: use --net SPEC (e.g. hub,path=/tmp/lan.sock) or set PARALLAX_NET');
    const key = this.key();
    if (!key) throw new UsageError('refusing to send unsigned commands: no network key (give --key-file FILE, set PARALLAX_KEY, or --lab for the insecure lab key)');
    const names = this.names();
    const mac = this.opts.mac ?? this.io.env.PARALLAX_MAC ?? (this.longRunning ? processOrchestratorMac() : defaultOrchestratorMac());
    const backend = await openLan(net);
    let o: Orchestrator;
    try {
      o = new Orchestrator(backend, { key, mac, names, timeoutMs: this.opts.timeout, discoverMs: this.opts.discoverMs });
    } catch (e) {
      await backend.close();
      throw e;
    }
    const sp = this.statePath();
    if (sp) {
      try {
        o.restoreState(JSON.parse(readFileSync(sp, 'utf8')) as OrchestratorState);
      } catch {
        /* no state yet, or unreadable: start from the defaults */
      }
    }
    this.session = o;
    return o;
  }

  /** Save what we configured and leave the LAN (unless a script still needs the session). */
  async finish(force = false): Promise<void> {
    if (!this.session || (this.persistent && !force)) return;
    const o = this.session;
    this.session = null;
    this.opening = null;
    const sp = this.statePath();
    if (sp) {
      try {
        mkdirSync(path.dirname(sp), { recursive: true });
        const tmp = `${sp}.${process.pid}.tmp`;
        writeFileSync(tmp, JSON.stringify(o.saveState(), null, 1));
        renameSync(tmp, sp);
      } catch (e) {
        this.err(`parallax: warning: cannot save state to ${sp}: ${(e as Error).message}`);
      }
    }
    await o.close();
  }
}

/** Fixed-width table for people. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : (c ?? '').padEnd(widths[i]))).join('  ').trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
