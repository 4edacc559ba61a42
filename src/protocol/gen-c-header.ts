// Generates src/dime/include/protocol.h from wire.ts, so the C kernel and the TypeScript
// side cannot drift apart. Run: `npx tsc -p . && node dist/src/protocol/gen-c-header.js`
// (writes the checked-in header); test/dime/protocol.test.ts regenerates and compares.
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import path from 'node:path';
import * as W from './wire.js';

export const HEADER_PATH = 'src/dime/include/protocol.h';

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
function hex(v: number, width = 2): string {
  return '0x' + v.toString(16).toUpperCase().padStart(width, '0');
}

function layoutDefines(prefix: string, layout: W.Layout, out: string[]): void {
  const placed = W.place(layout.fields);
  for (const f of placed.fields) {
    out.push(`#define ${prefix}_${snake(f.name)}_OFF ${f.offset}  /* ${describe(f.type)}: ${f.doc} */`);
    if (typeof f.type === 'object') out.push(`#define ${prefix}_${snake(f.name)}_LEN ${f.size}`);
  }
  out.push(`#define ${prefix}_LEN ${placed.size}`);
  if (layout.records) {
    const rec = W.place(layout.records);
    for (const f of rec.fields) {
      out.push(`#define ${prefix}_REC_${snake(f.name)}_OFF ${f.offset}  /* ${describe(f.type)}: ${f.doc} */`);
      if (typeof f.type === 'object') out.push(`#define ${prefix}_REC_${snake(f.name)}_LEN ${f.size}`);
    }
    out.push(`#define ${prefix}_REC_LEN ${rec.size}`);
  }
}

function describe(t: W.FieldType): string {
  if (typeof t === 'string') return t;
  if ('str' in t) return `char[${t.str}]`;
  return `u8[${t.bytes}]`;
}

function enumDefines(prefix: string, obj: Record<string, number>, out: string[]): void {
  for (const [k, v] of Object.entries(obj)) out.push(`#define ${prefix}_${k} ${v}`);
}

/** { maxMembers: 64 } -> { MAX_MEMBERS: 64 } */
function upperSnakeKeys(obj: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase(), v]));
}

export function generateCHeader(): string {
  const o: string[] = [];
  o.push('/* GENERATED from src/protocol/wire.ts by src/protocol/gen-c-header.ts: do not edit. */');
  o.push('/* Parallax wire format. All multi-byte fields are big-endian unless noted. */');
  o.push('#ifndef PARALLAX_PROTOCOL_H');
  o.push('#define PARALLAX_PROTOCOL_H');
  o.push('');
  o.push('/* EtherType = base | channel<<7 | scope<<6 | type */');
  o.push(`#define PX_ETHERTYPE_BASE_DEFAULT ${hex(W.ETHERTYPE_BASE_DEFAULT, 4)}`);
  o.push(`#define PX_ETHERTYPE_BLOCK_MASK ${hex(W.ETHERTYPE_BLOCK_MASK, 4)}`);
  o.push(`#define PX_ET_CHANNEL_DATA ${hex(W.ET_CHANNEL_DATA)}`);
  o.push(`#define PX_ET_SCOPE_DIME ${hex(W.ET_SCOPE_DIME)}`);
  o.push(`#define PX_ET_TYPE_MASK ${hex(W.ET_TYPE_MASK)}`);
  o.push('');
  o.push(`#define PX_PROTOCOL_VERSION ${W.PROTOCOL_VERSION}`);
  o.push(`#define PX_ETH_HEADER_LEN ${W.ETH_HEADER_LEN}`);
  o.push(`#define PX_TAG_LEN ${W.TAG_LEN}`);
  o.push(`#define PX_MAX_FRAME_LEN ${W.MAX_FRAME_LEN}`);
  o.push(`#define PX_MAX_PAYLOAD ${W.MAX_PAYLOAD}`);
  o.push(`#define PX_CORE_NONE ${hex(W.CORE_NONE, 4)}`);
  o.push('');
  o.push('/* Parallax header, right after the Ethernet header */');
  layoutDefines('PX_HDR', W.HEADER, o);
  o.push('');
  // each wire.ts table of named values as #defines, in this order ('' = a blank line); limits
  // objects are camelCase (maxMembers -> PX_COLL_MAX_MEMBERS)
  // PX_NAME_BYTES, not PX_NAME_NAME_BYTES
  const { nameBytes, ...otherNameLimits } = W.NAME_LIMITS;
  const nameLimits = { ...upperSnakeKeys(otherNameLimits), BYTES: nameBytes };
  const tables: ([string, Record<string, number>] | '')[] = [
    ['PX_FLAG', W.FLAGS], '', ['PX_STATUS', W.STATUS], '', ['PX_STATE', W.STATE], '',
    ['PX_ROUTE', W.ROUTE], ['PX_ROUTE_DIR', W.ROUTE_DIR], '',
    ['PX_ALARM_KIND', W.ALARM_KIND], ['PX_SECURITY_CODE', W.SECURITY_CODE], ['PX_MALFORMED', W.MALFORMED_REASON],
    ['PX_EXIT_REASON', W.EXIT_REASON], ['PX_MIGRATE_MODE', W.MIGRATE_MODE], ['PX_LINE_FLAG', W.LINE_FLAGS], ['PX_STORE_RIGHT', W.STORE_RIGHT],
    ['PX_STORE_STATE', W.STORE_STATE], ['PX_CSTORE', upperSnakeKeys(W.CSTORE_LIMITS)],
    ['PX_COLL_KIND', W.COLL_KIND], ['PX_COLL_PHASE', W.COLL_PHASE], ['PX_COLL_CMP', W.COLL_CMP],
    ['PX_COLL_OUTCOME', W.COLL_OUTCOME], ['PX_COLL', upperSnakeKeys(W.COLL_LIMITS)],
    ['PX_NAME_SOURCE', W.NAME_SOURCE], ['PX_NAME', nameLimits],
  ];
  for (const t of tables) if (t === '') o.push(''); else enumDefines(t[0], t[1], o);
  const { multicastMac, ...bootLimits } = W.BOOT;
  o.push(`#define PX_BOOT_MCAST_MAC {${multicastMac.split(':').map((b) => `0x${b.toUpperCase()}`).join(', ')}}`);
  enumDefines('PX_BOOT', upperSnakeKeys(bootLimits), o);
  o.push('');
  o.push('/* service image header (little-endian, read in place) */');
  o.push(`#define PX_IMAGE_MAGIC ${hex(W.SERVICE_IMAGE.magic, 8)}`);
  o.push(`#define PX_IMAGE_HEADER_LEN ${W.SERVICE_IMAGE.headerLen}`);
  layoutDefines('PX_IMAGE', { fields: W.SERVICE_IMAGE.fields }, o);
  o.push('');
  o.push('/* instruction types; SCOPES: bit 0 system scope allowed, bit 1 DIME scope allowed */');
  for (const m of W.MESSAGES) {
    const ch = m.channel === 'signaling' ? 'SIG' : 'DATA';
    const scopes = (m.scopes.includes('system') ? 1 : 0) | (m.scopes.includes('dime') ? 2 : 0);
    o.push('');
    o.push(`/* ${m.name}: ${m.doc} */`);
    o.push(`#define PX_${ch}_${m.name} ${hex(m.code)}`);
    o.push(`#define PX_${m.name}_SCOPES ${scopes}`);
    o.push(`#define PX_${m.name}_FROM_ORCHESTRATOR_ONLY ${m.from === 'orchestrator' ? 1 : 0}`);
    if (m.request) layoutDefines(`PX_${m.name}_REQ`, m.request, o);
    if (m.response) layoutDefines(`PX_${m.name}_RESP`, m.response, o);
  }
  o.push('');
  o.push('#endif');
  o.push('');
  return o.join('\n');
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  const target = process.argv[2] ?? path.join(root.endsWith('dist') ? path.dirname(root) : root, HEADER_PATH);
  writeFileSync(target, generateCHeader());
  console.log(`wrote ${target}`);
}
