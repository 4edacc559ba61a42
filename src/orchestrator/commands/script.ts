// Script mode, as the papers' orchestrator had: orchestrator commands from a file or stdin,
// one per line, run in order over one session (so what one line configures, the next knows).
// `#` starts a comment; `sleep MS` pauses; `echo TEXT` prints. Stops at the first failing
// line (its exit code is the script's) unless --keep-going.
import { readFileSync } from 'node:fs';
import type { CliContext } from '../cli-context.js';
import { OrchestratorError, UsageError } from '../errors.js';
import { verb, str } from './verb.js';

/** Split a line into words, honouring '...' and "..." and backslash escapes. */
export function splitWords(line: string): string[] {
  const words: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let has = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
    } else if (ch === '"' || ch === "'") { quote = ch; has = true; }
    else if (ch === '\\' && i + 1 < line.length) { cur += line[++i]; has = true; }
    else if (ch === '#' && !has && cur === '') break;
    else if (/\s/.test(ch)) { if (has || cur) words.push(cur); cur = ''; has = false; }
    else { cur += ch; has = true; }
  }
  if (quote) throw new UsageError(`unterminated ${quote} quote`);
  if (has || cur) words.push(cur);
  return words;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(parts).toString('utf8');
}

export function scriptVerbs(ctx: CliContext, runWords: (words: string[]) => Promise<number>) {
  return [
    verb(ctx, {
      command: 'script [file]',
      describe: 'run orchestrator commands from a file (or stdin: -), one per line',
      builder: (y) => y.positional('file', { type: 'string', default: '-', describe: 'script file, - for stdin' })
        .option('keep-going', { type: 'boolean', default: false, describe: 'continue after a failing line' }),
      run: async (c, argv) => {
        const file = str(argv.file);
        let text: string;
        try {
          text = file === '-' ? await readAll(c.io.stdin) : readFileSync(file, 'utf8');
        } catch (e) {
          throw new UsageError(`cannot read script ${file}: ${(e as Error).message}`);
        }
        const lines = text.split('\n');
        let failures = 0;
        let firstCode = 0;
        c.persistent = true;
        try {
          for (let i = 0; i < lines.length; i++) {
            const where = `${file === '-' ? 'stdin' : file}:${i + 1}`;
            let words: string[];
            try {
              words = splitWords(lines[i]);
            } catch (e) {
              throw new UsageError(`${where}: ${(e as Error).message}`);
            }
            if (!words.length) continue;
            if (words[0] === 'script') throw new UsageError(`${where}: scripts cannot run scripts`);
            if (words[0] === 'sleep') {
              const ms = Number(words[1]);
              if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`${where}: sleep needs a number of ms`);
              await new Promise((r) => setTimeout(r, ms));
              continue;
            }
            if (words[0] === 'echo') { c.out(words.slice(1).join(' ')); continue; }
            if (!c.json) c.out(c.paint('cyan', `> ${words.join(' ')}`));
            const code = await runWords(words);
            if (code !== 0) {
              failures++;
              firstCode ||= code;
              if (!argv['keep-going']) throw new OrchestratorError(`${where}: '${words.join(' ')}' failed; script stopped`, code);
            }
          }
        } finally {
          c.persistent = false;
        }
        if (failures) throw new OrchestratorError(`${failures} script line${failures === 1 ? '' : 's'} failed`, firstCode);
        return undefined;
      },
    }),
  ];
}
