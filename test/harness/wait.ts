/**
 * waitUntil polls `condition` every 5 ms of real time (for tests of the live worker and intake,
 * where things happen on their own), failing with the condition's text after `timeoutMs`.
 */
export async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs / 1000} s: ${condition.toString()}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
