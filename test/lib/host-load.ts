// Artificial host load for tests that must hold on a busy machine: busy-loop processes, one per
// host CPU by default, killed (by their own pids) when the test is done.
import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface HostLoad {
  /** how many busy processes run */
  readonly count: number;
  stop(): void;
}

export function startHostLoad(count = availableParallelism()): HostLoad {
  const kids: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    kids.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  }
  return {
    count,
    stop: () => { for (const k of kids) if (k.exitCode === null) k.kill('SIGKILL'); },
  };
}

/** Run `fn` with the host loaded, always ending the load. */
export async function withHostLoad<T>(fn: () => Promise<T>, count?: number): Promise<T> {
  const load = startHostLoad(count);
  try {
    return await fn();
  } finally {
    load.stop();
  }
}
