// The dashboard's web server (node:http only): the page, a JSON snapshot of the network, and
// a server-sent-events stream that pushes the snapshot twice a second and every alarm,
// policy action, command and liveness change as it happens. Local by default (127.0.0.1).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OrchestratorEvent } from '../events.js';
import { describeEvent } from '../events.js';
import type { Orchestrator } from '../orchestrator.js';
import { dimeKey } from '../targets.js';
import { DASHBOARD_PAGE } from './page.js';

/** Events worth a line in the dashboard's log (heartbeats and perf show as gauges instead). */
const LOGGED = new Set(['alarm', 'policy', 'missing', 'back', 'exit', 'command', 'discovered', 'output']);

export interface DashboardOptions {
  host?: string;
  port?: number;
  /** ms between snapshots pushed to the page */
  pushMs?: number;
}

export class DashboardServer {
  private readonly http: Server;
  private readonly clients = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private readonly onEvent = (e: OrchestratorEvent) => {
    if (!LOGGED.has(e.type)) return;
    this.broadcast('event', this.eventView(e));
  };

  constructor(private readonly o: Orchestrator, private readonly opts: DashboardOptions = {}) {
    this.http = createServer((req, res) => this.handle(req, res));
  }

  private eventView(e: OrchestratorEvent): OrchestratorEvent & { text: string } {
    return { ...e, text: describeEvent(e) };
  }

  /** Everything the page draws. */
  state(): unknown {
    const snap = this.o.model.snapshot();
    const servers = snap.servers.map((s) => ({
      ...s,
      dimes: s.dimes.map((d) => ({
        ...d,
        role: this.o.assignments.get(dimeKey(d))?.role ?? d.role ?? null,
        input: this.endpoint(d.input),
        output: this.endpoint(d.output),
      })),
    }));
    return {
      at: snap.at,
      orchestrator: this.o.mac,
      link: this.o.link.stats,
      servers,
      events: this.o.recentEvents(100, (e) => LOGGED.has(e.type)).map((e) => this.eventView(e)),
    };
  }

  private endpoint(e: import('../targets.js').Endpoint): { kind: string; label: string; dime?: string } {
    if (e.kind === 'dime') return { kind: 'dime', label: this.o.label(e.dime), dime: this.o.label(e.dime) };
    return { kind: e.kind, label: e.kind };
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (req.method !== 'GET') { res.writeHead(405).end('method not allowed\n'); return; }
    switch (url.pathname) {
      case '/':
      case '/index.html':
        res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(DASHBOARD_PAGE);
        return;
      case '/api/state':
        res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(json(this.state()));
        return;
      case '/events':
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
        res.write(`event: state\ndata: ${json(this.state())}\n\n`);
        this.clients.add(res);
        req.on('close', () => this.clients.delete(res));
        return;
      default:
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }

  private broadcast(event: string, data: unknown): void {
    const chunk = `event: ${event}\ndata: ${json(data)}\n\n`;
    for (const c of this.clients) c.write(chunk);
  }

  async listen(): Promise<string> {
    const host = this.opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.opts.port ?? 0, host, () => resolve());
    });
    this.o.on('event', this.onEvent);
    this.timer = setInterval(() => { if (this.clients.size) this.broadcast('state', this.state()); }, this.opts.pushMs ?? 500);
    const a = this.http.address() as AddressInfo;
    return `http://${host.includes(':') ? `[${host}]` : host}:${a.port}/`;
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.o.off('event', this.onEvent);
    for (const c of this.clients) c.end();
    this.clients.clear();
    await new Promise<void>((r) => this.http.close(() => r()));
  }
}

function json(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x));
}
