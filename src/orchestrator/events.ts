// What the orchestrator reports as it happens: DIME reports (heartbeat, performance, alarm,
// service exit, output), changes it notices (a DIME found, a heartbeat missing, back again),
// and what it did and why (commands, policy actions). `watch --json` prints these one per line
// and the dashboard's event log shows them.

export type AlarmKind = 'fault' | 'security' | 'resource';

interface Base {
  /** ms since the epoch, host clock */
  at: number;
  /** "S1/2"-style label when the event concerns one DIME */
  dime?: string;
}

export type OrchestratorEvent = Base & (
  | { type: 'discovered'; server: string; core: number; service: string; state: string }
  | { type: 'heartbeat'; server: string; core: number; beat: number; state: string; service: string; cpuPct: number; memUsed: number }
  | { type: 'perf'; server: string; core: number; cpuPct: number; memPct: number; framesIn: number; framesOut: number; inputQueued: number }
  | { type: 'alarm'; server: string; core: number | null; kind: AlarmKind; code: number; codeName: string; detail: string; text: string; peer?: string; source: 'dime' | 'orchestrator' }
  | { type: 'exit'; server: string; core: number; service: string; reason: string; exitCode: number; runMs: number; cpuMs: number }
  | { type: 'missing'; server: string; core: number; service: string; silentMs: number; intervals: number }
  | { type: 'back'; server: string; core: number; silentMs: number }
  | { type: 'output'; server: string; core: number; text: string; stream?: number; line?: number }
  | { type: 'command'; server: string; core: number | null; command: string; detail?: string; ok: boolean; error?: string }
  | { type: 'policy'; policy: 'fault' | 'performance'; action: string; reason: string; ok: boolean; error?: string }
);

export type EventType = OrchestratorEvent['type'];

/** One line for humans; `watch` without --json prints these. */
export function describeEvent(e: OrchestratorEvent): string {
  const who = e.dime ? `${e.dime} ` : '';
  switch (e.type) {
    case 'discovered': return `${who}found (${e.state}${e.service ? `, ${e.service}` : ''})`;
    case 'heartbeat': return `${who}heartbeat #${e.beat} ${e.state}${e.service ? ` ${e.service}` : ''} cpu ${e.cpuPct.toFixed(0)}%`;
    case 'perf': return `${who}perf cpu ${e.cpuPct.toFixed(0)}% mem ${e.memPct.toFixed(0)}% in ${e.framesIn} out ${e.framesOut} queued ${e.inputQueued}`;
    case 'alarm': return `${who}ALARM ${e.kind} ${e.codeName}${e.text ? `: ${e.text}` : ''}${e.peer ? ` (from ${e.peer})` : ''}${e.source === 'orchestrator' ? ' [seen by the orchestrator]' : ''}`;
    case 'exit': return `${who}${e.service || 'service'} ended: ${e.reason} (code ${e.exitCode}, ${e.runMs.toFixed(0)} ms, cpu ${e.cpuMs.toFixed(0)} ms)`;
    case 'missing': return `${who}heartbeat missing for ${e.silentMs} ms (${e.intervals} intervals)${e.service ? `, was running ${e.service}` : ''}`;
    case 'back': return `${who}heartbeat back after ${e.silentMs} ms`;
    case 'output': return `${who}output${e.line ? ` line ${e.line}` : ''}: ${JSON.stringify(e.text)}`;
    case 'command': return `${who || (e.server + ' ')}${e.command}${e.detail ? ` ${e.detail}` : ''}: ${e.ok ? 'ok' : `FAILED ${e.error ?? ''}`}`;
    case 'policy': return `policy ${e.policy}: ${e.action} — ${e.reason}${e.ok ? '' : ` (FAILED: ${e.error ?? ''})`}`;
  }
}
