// Generates the protocol tables of tools/wireshark/parallax.lua from src/protocol/wire.ts, so
// the Wireshark dissector cannot drift from the kernel and the codec, and its SHA-256 constants
// from the kernel's own table (src/dime/kernel/crypto.c). Only the block between
// the GENERATED markers is rewritten; the dissector's logic around it is hand-written.
// Run after changing wire.ts:
//   PARALLAX_UPDATE_DISSECTOR=1 npx vitest run test/net/dissector.test.ts
// (or, with tools/ compiled by tsc: node dist/tools/wireshark/gen.js).
// test/net/dissector.test.ts regenerates and compares.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot } from '../../src/orchestrator/launcher.js';
import * as W from '../../src/protocol/wire.js';

export const DISSECTOR_PATH = 'tools/wireshark/parallax.lua';
export const BEGIN_MARKER = '-- BEGIN GENERATED from src/protocol/wire.ts by tools/wireshark/gen.ts: do not edit';
export const END_MARKER = '-- END GENERATED';

function luaString(s: string): string {
  return JSON.stringify(s); // a JSON string literal is a valid Lua string literal for this text
}

function hex(v: number, width: number): string {
  return '0x' + v.toString(16).toUpperCase().padStart(width, '0');
}

/** Kind and size of a field as the dissector sees it. */
function fieldKind(t: W.FieldType): { kind: string; size: number } {
  if (typeof t === 'string') return { kind: t, size: W.fieldSize(t) };
  if ('str' in t) return { kind: 'str', size: t.str };
  return { kind: 'bytes', size: t.bytes };
}

/**
 * One Wireshark field per payload field name (`parallax.f.<name>`), so a filter such as
 * `parallax.f.dime == 1` works across messages. A name used with two kinds gets the kind
 * appended to keep each field's type fixed.
 */
function payloadFieldNames(): Map<string, { abbrev: string; kind: string }> {
  const kinds = new Map<string, Set<string>>();
  const visit = (fields: W.FieldDef[] | undefined) => {
    for (const f of fields ?? []) {
      const k = fieldKind(f.type).kind;
      if (!kinds.has(f.name)) kinds.set(f.name, new Set());
      kinds.get(f.name)!.add(k);
    }
  };
  for (const m of W.MESSAGES) {
    for (const l of [m.request, m.response]) {
      visit(l?.fields);
      visit(l?.records);
    }
  }
  const out = new Map<string, { abbrev: string; kind: string }>();
  for (const [name, set] of [...kinds].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    for (const kind of [...set].sort()) {
      const abbrev = set.size > 1 ? `${name}_${kind}` : name;
      out.set(`${name}/${kind}`, { abbrev, kind });
    }
  }
  return out;
}

/** Kinds whose size the kind itself fixes ('rest' takes what is left of the payload). */
const FIXED_KIND_SIZE: Record<string, number> = Object.fromEntries(
  (['u8', 'u16', 'u32', 'u64', 'i32', 'mac', 'rest'] as const).map((k) => [k, W.fieldSize(k)]),
);

/**
 * One layout as a Lua row: its fields in order, `{ name, kind[, size][, field = Wireshark field] }`
 * (size only where the kind does not fix it; field only where it is not the name), then
 * `records = { ... }` for the record that repeats to the end of the payload. Offsets are not
 * written: the dissector adds up the sizes, as W.place does.
 */
function layoutRowLua(layout: W.Layout | undefined, names: Map<string, { abbrev: string }>): string {
  if (!layout) return 'nil';
  const fieldLua = (f: W.FieldDef): string => {
    const { kind, size } = fieldKind(f.type);
    const abbrev = names.get(`${f.name}/${kind}`)!.abbrev;
    const parts = [luaString(f.name), luaString(kind)];
    if (!(kind in FIXED_KIND_SIZE)) parts.push(String(size));
    if (abbrev !== f.name) parts.push(`field = ${luaString(abbrev)}`);
    return `{ ${parts.join(', ')} }`;
  };
  const items = layout.fields.map(fieldLua);
  if (layout.records) items.push(`records = { ${layout.records.map(fieldLua).join(', ')} }`);
  return items.length ? `{ ${items.join(', ')} }` : '{}';
}

export const SHA256_SOURCE = 'src/dime/kernel/crypto.c';

/** The hex numbers of `static const uint32_t <name>[<count>] = { ... };` in the kernel's SHA-256. */
function kernelTable(c: string, name: string, count: number): number[] {
  const m = new RegExp(`static const uint32_t ${name}\\[${count}\\] = \\{([^}]*)\\}`).exec(c);
  const values = m ? [...m[1].matchAll(/0x[0-9a-fA-F]+/g)].map((h) => Number(h[0])) : [];
  if (values.length !== count) throw new Error(`${SHA256_SOURCE}: no ${name}[${count}] table`);
  return values;
}

/** SHA-256's round constants and initial hash value, as Lua tables (8 values a line). */
function sha256Lua(root: string): string[] {
  const c = readFileSync(path.join(root, SHA256_SOURCE), 'utf8');
  const table = (name: string, values: number[]): string[] => {
    const o = [`local ${name} = {`];
    for (let i = 0; i < values.length; i += 8) o.push(`  ${values.slice(i, i + 8).map((v) => hex(v, 8)).join(', ')},`);
    o.push('}');
    return o;
  };
  return [`-- SHA-256 (FIPS 180-4) round constants and initial hash value, from ${SHA256_SOURCE}`,
    ...table('SHA256_K', kernelTable(c, 'K', 64)), ...table('SHA256_IV', kernelTable(c, 'iv', 8))];
}

function enumLua(name: string, obj: Record<string, number>): string[] {
  const entries = Object.entries(obj).map(([k, v]) => `[${v}] = ${luaString(k)}`);
  return [`local ${name} = { ${entries.join(', ')} }`];
}

/** The generated block, markers included; `root`: the repository (for the kernel's SHA-256). */
export function generateDissectorTables(root = repoRoot()): string {
  const names = payloadFieldNames();
  const o: string[] = [BEGIN_MARKER];
  o.push('local PX = {');
  o.push(`  etherbase_default = ${hex(W.ETHERTYPE_BASE_DEFAULT, 4)}, block_mask = ${hex(W.ETHERTYPE_BLOCK_MASK, 4)},`);
  o.push(`  channel_data = ${hex(W.ET_CHANNEL_DATA, 2)}, scope_dime = ${hex(W.ET_SCOPE_DIME, 2)}, type_mask = ${hex(W.ET_TYPE_MASK, 2)},`);
  o.push(`  version = ${W.PROTOCOL_VERSION}, header_len = ${W.HEADER_LEN}, tag_len = ${W.TAG_LEN},`);
  o.push(`  max_frame_len = ${W.MAX_FRAME_LEN}, max_payload = ${W.MAX_PAYLOAD}, core_none = ${hex(W.CORE_NONE, 4)},`);
  o.push('}');
  o.push('-- the Parallax header, right after the Ethernet header');
  o.push('local HEADER = {');
  for (const f of W.place(W.HEADER.fields).fields) {
    o.push(`  ${f.name} = { offset = ${f.offset}, size = ${f.size} },`);
  }
  o.push('}');
  o.push(...enumLua('FLAG_NAMES', W.FLAGS));
  o.push(`local FLAG_RESPONSE, FLAG_EVENT = ${hex(W.FLAGS.RESPONSE, 2)}, ${hex(W.FLAGS.EVENT, 2)}`);
  o.push(...enumLua('STATUS_NAMES', W.STATUS));
  o.push(...enumLua('STATE_NAMES', W.STATE));
  o.push(...enumLua('ROUTE_NAMES', W.ROUTE));
  o.push(...enumLua('ROUTE_DIR_NAMES', W.ROUTE_DIR));
  o.push(...enumLua('ALARM_KIND_NAMES', W.ALARM_KIND));
  o.push(...enumLua('SECURITY_CODE_NAMES', W.SECURITY_CODE));
  o.push(...enumLua('EXIT_REASON_NAMES', W.EXIT_REASON));
  o.push('-- payload fields: one Wireshark field each, parallax.f.<field>');
  o.push('local PAYLOAD_FIELDS = {');
  for (const { abbrev, kind } of names.values()) o.push(`  { field = ${luaString(abbrev)}, kind = ${luaString(kind)} },`);
  o.push('}');
  o.push(`local KIND_SIZE = { ${Object.entries(FIXED_KIND_SIZE).map(([k, v]) => `${k} = ${v}`).join(', ')} }`);
  o.push('-- one row a message: channel (0 signaling, 1 data), instruction type, name, sender, scopes,');
  o.push('-- doc, request (or event) layout, response layout (nil: none); see MESSAGES below');
  o.push('local MESSAGE_ROWS = {');
  for (const m of W.MESSAGES) {
    const row = [m.channel === 'data' ? '1' : '0', hex(m.code, 2), luaString(m.name), luaString(m.from), luaString(m.scopes.join(' ')),
      luaString(m.doc), layoutRowLua(m.request, names), layoutRowLua(m.response, names)];
    o.push(`  { ${row.join(', ')} },`);
  }
  o.push('}');
  o.push(...sha256Lua(root));
  o.push(END_MARKER);
  return o.join('\n');
}

/** `lua` with its generated block replaced by a fresh one (`root`: the repository). */
export function renderDissector(lua: string, root = repoRoot()): string {
  const begin = lua.indexOf(BEGIN_MARKER);
  const end = lua.indexOf(END_MARKER);
  if (begin < 0 || end < begin) throw new Error(`${DISSECTOR_PATH}: generated-block markers missing`);
  return lua.slice(0, begin) + generateDissectorTables(root) + lua.slice(end + END_MARKER.length);
}

/** Rewrites the dissector under `root` (the repository); returns whether it changed. */
export function updateDissector(root: string): boolean {
  const file = path.join(root, DISSECTOR_PATH);
  const before = readFileSync(file, 'utf8');
  const after = renderDissector(before, root);
  if (after !== before) writeFileSync(file, after);
  return after !== before;
}

const isMain = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href;
if (isMain) {
  const root = repoRoot();
  console.log(updateDissector(root) ? `updated ${DISSECTOR_PATH}` : `${DISSECTOR_PATH} is up to date`);
}
