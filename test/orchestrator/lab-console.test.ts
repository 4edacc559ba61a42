// `parallax-orch lab --console`: lines typed on the lab's stdin reach the chosen server's serial
// console. The parser alone, then a real lab of two parallax-emu servers in which S2's DIME 1
// runs the console reader service and shows what was typed on S2's console.
import { describe, it, expect } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { LabConsoleInput } from '../../src/orchestrator/lab-console.js';
import { runCli } from '../../src/orchestrator/commands/index.js';
import { captureIO } from './cli-io.js';

function recorder(names = ['S1', 'S2', 'S3']) {
  const typed: Array<[string, string]> = [];
  const said: string[] = [];
  const input = new LabConsoleInput(names, { type: (n, t) => typed.push([n, t]), say: (m) => said.push(m) });
  return { input, typed, said };
}

describe('lab console input (parser)', () => {
  it('sends plain lines to the first server, a prefixed line to its server only', () => {
    const { input, typed } = recorder();
    input.line('hello');
    input.line('S2> to two');
    input.line('after');
    input.line('s3>no space');
    input.line('S2>');
    expect(typed).toEqual([['S1', 'hello\r'], ['S2', 'to two\r'], ['S1', 'after\r'], ['S3', 'no space\r'], ['S2', '\r']]);
  });

  it('>NAME switches where plain lines go', () => {
    const { input, typed, said } = recorder();
    input.line('>S3');
    expect(input.target).toBe('S3');
    input.line('one');
    input.line(' > s2 ');
    input.line('two');
    expect(typed).toEqual([['S3', 'one\r'], ['S2', 'two\r']]);
    expect(said).toEqual(['console input now goes to S3', 'console input now goes to S2']);
  });

  it('refuses a server the lab does not have and sends nothing; a prefix that is no server name is text', () => {
    const { input, typed, said } = recorder(['S1', 'S2']);
    input.line('S9> lost');
    input.line('>S7');
    expect(typed).toEqual([]);
    expect(said).toHaveLength(2);
    expect(said[0]).toMatch(/no server S9 in this lab \(servers: S1, S2\): nothing sent/);
    expect(input.target).toBe('S1');
    input.line('note> kept as text');
    expect(typed).toEqual([['S1', 'note> kept as text\r']]);
  });
});

const KEY = 'lab-console-key';
const S1 = '52:54:00:00:01:01';
const S2 = '52:54:00:00:01:02';

async function until(what: () => boolean, timeoutMs: number, label: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${label}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('parallax-orch lab --console (2 parallax-emu servers)', () => {
  it('types a line on the chosen server\'s console; end of input stops the lab', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'px-lab-console-'));
    let out = '';
    let err = '';
    const stdin = new PassThrough();
    const io = {
      stdout: new Writable({ write(c, _e, cb) { out += c.toString(); cb(); } }),
      stderr: new Writable({ write(c, _e, cb) { err += c.toString(); cb(); } }),
      stdin, env: { NO_COLOR: '1', PARALLAX_KEY: KEY },
    };
    const labDone = runCli(['--state', 'none', 'lab', '--servers', '2', '--cores', '2', '--dir', dir, '--console'], io);
    const cli = async (...words: string[]) => {
      const c = captureIO('', { PARALLAX_KEY: KEY });
      const code = await runCli(['--net', `hub,path=${path.join(dir, 'lan.sock')}`, '--mac', '02:50:00:00:0c:01', '--alias', `S1=${S1},S2=${S2}`,
        '--state', 'none', ...words], c);
      return { code, out: c.out(), err: c.err() };
    };
    try {
      await until(() => /console input: /.test(out), 90_000, `the lab to start (out: ${out} err: ${err})`);
      expect(out).toMatch(/'S2> text' types a line on S2's console/);
      // S2's DIME 1 reads S2's keyboard and shows the lines on S2's console
      for (const words of [['route', 'console', 'S2/1'], ['route', 'S2/1', 'console'], ['load', 'conreader', '--on', 'S2/1', '--start']]) {
        const r = await cli(...words);
        expect(r.code, r.err).toBe(0);
      }
      stdin.write('S2> typed for s2\n');
      await until(() => out.includes('S2| DIME 1> typed for s2\n'), 10_000, `the line on S2's console (out: ${out})`);
      // plain lines go to S1 until '>S2'
      stdin.write('>S2\nplain line\n');
      await until(() => out.includes('S2| DIME 1> plain line\n'), 10_000, `the plain line on S2's console (out: ${out})`);
      expect(out).not.toMatch(/S1\| .*typed for s2/);
      expect(err).toMatch(/lab: console input now goes to S2/);
      stdin.write('S5> nowhere\n');
      await until(() => /no server S5 in this lab/.test(err), 5_000, 'the refusal');
      stdin.end();
      expect(await labDone).toBe(0);
    } finally {
      stdin.end();
      await labDone.catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
