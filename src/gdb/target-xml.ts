// The target description gdb reads with qXfer:features:read:target.xml: an x86-64 target
// with gdb's standard core/SSE/segments features and a feature of system registers, built
// from the register table so the XML and the `g` packet can never disagree.

import { REGISTERS, type RegisterDef } from '../debug/x86-registers.js';

const FEATURES: Record<RegisterDef['feature'], string> = {
  core: 'org.gnu.gdb.i386.core',
  sse: 'org.gnu.gdb.i386.sse',
  segments: 'org.gnu.gdb.i386.segments',
  system: 'org.parallax.gdb.x86.system',
};

const EFLAGS = ['CF:0', 'PF:2', 'AF:4', 'ZF:6', 'SF:7', 'TF:8', 'IF:9', 'DF:10', 'OF:11', 'NT:14', 'RF:16', 'VM:17', 'AC:18', 'VIF:19', 'VIP:20', 'ID:21'];
const MXCSR = ['IE:0', 'DE:1', 'ZE:2', 'OE:3', 'UE:4', 'PE:5', 'DAZ:6', 'IM:7', 'DM:8', 'ZM:9', 'OM:10', 'UM:11', 'PM:12', 'FZ:15'];

function flags(id: string, fields: string[]): string {
  const f = fields.map((x) => { const [n, b] = x.split(':'); return `<field name="${n}" start="${b}" end="${b}"/>`; }).join('');
  return `<flags id="${id}" size="4">${f}</flags>`;
}

const TYPES: Record<RegisterDef['feature'], string> = {
  core: flags('i386_eflags', EFLAGS),
  sse: [
    '<vector id="v4f" type="ieee_single" count="4"/>', '<vector id="v2d" type="ieee_double" count="2"/>',
    '<vector id="v16i8" type="int8" count="16"/>', '<vector id="v8i16" type="int16" count="8"/>',
    '<vector id="v4i32" type="int32" count="4"/>', '<vector id="v2i64" type="int64" count="2"/>',
    '<union id="vec128"><field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/>' +
      '<field name="v16_int8" type="v16i8"/><field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/>' +
      '<field name="v2_int64" type="v2i64"/><field name="uint128" type="uint128"/></union>',
    flags('i386_mxcsr', MXCSR),
  ].join(''),
  segments: '',
  system: '',
};

export function targetXml(): string {
  const parts: string[] = ['<?xml version="1.0"?><!DOCTYPE target SYSTEM "gdb-target.dtd"><target version="1.0">',
    '<architecture>i386:x86-64</architecture>'];
  let regnum = 0;
  for (const feature of Object.keys(FEATURES) as RegisterDef['feature'][]) {
    parts.push(`<feature name="${FEATURES[feature]}">${TYPES[feature]}`);
    for (const r of REGISTERS) {
      if (r.feature !== feature) continue;
      const group = feature === 'sse' ? ' group="vector"' : r.feature === 'system' ? ' group="system"' : '';
      parts.push(`<reg name="${r.name}" bitsize="${r.bits}" type="${r.type}" regnum="${REGISTERS.indexOf(r)}"${group}/>`);
      regnum++;
    }
    parts.push('</feature>');
  }
  parts.push('</target>');
  return parts.join('');
}
