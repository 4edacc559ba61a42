// Development driver: node dist/test/cpu/integer/fuzz-cli.js [cases-per-template] [seed] [name-filter]
import { Prng } from '../../isa/prng.js';
import { compare, generate, TEMPLATES } from './integer-fuzz.js';

const per = Number(process.argv[2] ?? 50);
const seed = process.argv[3] ?? 'integer';
const filter = process.argv[4] ?? '';
const rng = new Prng(seed);
const cases = [];
for (const t of TEMPLATES) {
  if (filter && !t.name.startsWith(filter)) continue;
  for (let i = 0; i < per; i++) cases.push(generate(rng, t));
}
const t0 = performance.now();
const bad = compare(cases);
const byName = new Map<string, number>();
for (const m of bad) byName.set(m.name, (byName.get(m.name) ?? 0) + 1);
const shown = new Map<string, number>();
for (const m of bad) {
  const k = shown.get(m.name) ?? 0;
  if (k < 3) console.log(`${m.name} [${m.bytes}]: ${m.what}`);
  shown.set(m.name, k + 1);
}
console.log(`${cases.length} cases, ${bad.length} mismatches in ${byName.size} templates, ${(performance.now() - t0).toFixed(0)} ms`);
for (const [n, c] of byName) console.log(`  ${n}: ${c}`);
