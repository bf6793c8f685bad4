/**
 * The parse worker: a worker thread that reads big webhook bodies (JSON.parse, checks, normalizing)
 * so the main thread, which serves every other request, never stops for them. It answers each
 * request with the normalized alerts in slices of SLICE alerts (each slice a short structured-clone
 * on the main thread), then `done`; or with the sender's error. See big-parse.ts for the other side.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort } from 'node:worker_threads';
import type { IntegrationConfig } from '../config/types';
import { parsePayload } from './payloads';

export interface ParseRequest {
  readonly id: number;
  readonly integration: IntegrationConfig;
  readonly body: Uint8Array;
}

export type ParseAnswer =
  | { readonly id: number; readonly alerts: unknown[] }
  | { readonly id: number; readonly done: true; readonly count: number }
  | { readonly id: number; readonly error: string };

export const SLICE = 500;

/**
 * On Linux a thread has its own nice value: this one yields the CPU to the main thread (which
 * answers health checks and commands) whenever both want it. Elsewhere it keeps the default.
 */
try {
  setPriority(Number(readlinkSync('/proc/thread-self').split('/').pop()), 10);
} catch {
  // no /proc/thread-self (not Linux) or not allowed: the same priority as the main thread
}

/** Parsed requests whose slices the main thread has not all taken yet. */
const parsed = new Map<number, { alerts: readonly unknown[]; next: number }>();

/**
 * sendSlice sends the next slice of a request (or `done`). The main thread asks for each slice
 * after it took the one before: slices queued at once would all be delivered in one turn of its
 * event loop, which is the very wait this worker exists to avoid.
 */
function sendSlice(id: number): void {
  const entry = parsed.get(id);
  if (!entry || !parentPort) return;
  if (entry.next >= entry.alerts.length) {
    parsed.delete(id);
    parentPort.postMessage({ id, done: true, count: entry.alerts.length } satisfies ParseAnswer);
    return;
  }
  const alerts = entry.alerts.slice(entry.next, entry.next + SLICE);
  entry.next += SLICE;
  parentPort.postMessage({ id, alerts } satisfies ParseAnswer);
}

parentPort?.on('message', (message: ParseRequest | { readonly next: number }) => {
  const port = parentPort;
  if (!port) return;
  if ('next' in message) {
    sendSlice(message.next);
    return;
  }
  try {
    const body = Buffer.from(message.body.buffer, message.body.byteOffset, message.body.byteLength);
    const result = parsePayload(message.integration, body);
    if (!result.ok) {
      port.postMessage({ id: message.id, error: result.error } satisfies ParseAnswer);
      return;
    }
    parsed.set(message.id, { alerts: result.alerts, next: 0 });
    sendSlice(message.id);
  } catch (err) {
    // Not a sender's mistake (parsePayload answers those): the sender gets 500 and sends it again.
    port.postMessage({ id: message.id, error: `internal: ${err instanceof Error ? err.message : String(err)}` } satisfies ParseAnswer);
  }
});
