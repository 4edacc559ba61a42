// In-memory stdin/stdout/stderr for running `parallax` in-process.
import { PassThrough, Writable } from 'node:stream';
import type { CliIO } from '../../src/orchestrator/cli-context.js';

export function captureIO(stdinText = '', env: NodeJS.ProcessEnv = {}): CliIO & { out(): string; err(): string } {
  let out = '';
  let err = '';
  const stdout = new Writable({ write(c, _e, cb) { out += c.toString(); cb(); } });
  const stderr = new Writable({ write(c, _e, cb) { err += c.toString(); cb(); } });
  const stdin = new PassThrough();
  stdin.end(stdinText);
  return { stdout, stderr, stdin, env: { NO_COLOR: '1', ...env }, out: () => out, err: () => err };
}
