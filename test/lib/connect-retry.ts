// Connect to a socket a process under test is still opening: retry every 100 ms until the
// deadline (the gdb stub's TCP port, a QMP unix socket), then give up with the last error.
import { createConnection, type NetConnectOpts, type Socket } from 'node:net';

export async function connectWithRetry(target: NetConnectOpts, timeoutMs: number): Promise<Socket> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await new Promise<Socket>((res, rej) => {
        const sock = createConnection(target, () => res(sock));
        sock.once('error', rej);
      });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}
