// Wait for something the test cannot await directly (a frame reaching a socket, a counter
// moving in another process): poll the condition until it holds, or fail at the deadline
// saying what was awaited.
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'the condition', pollMs = 5): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
