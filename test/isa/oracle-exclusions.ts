// The oracle's exclusions (oracle-exclusions.json: reason -> forms) as one map form -> reason.
import { readFileSync } from 'node:fs';

interface ExclusionFile {
  groups: Record<string, { reason: string; forms: string[] }>;
}

const file = JSON.parse(readFileSync(new URL('./oracle-exclusions.json', import.meta.url), 'utf8')) as ExclusionFile;

export const ORACLE_EXCLUSIONS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(file.groups).flatMap((g) => g.forms.map((f) => [f, g.reason])),
);
