/**
 * BigBodyParser reads big webhook bodies on a worker thread (parse-worker.ts): JSON.parse of a
 * 4 MB body alone holds a thread 30-70 ms, during which /healthz, chat commands and the other
 * integrations' webhooks would wait. The main thread only receives the normalized alerts, a slice
 * at a time. One worker serves every request in turn and never keeps the process alive. If the
 * worker cannot start or dies, big bodies are read on the main thread as before for a minute (with
 * a warning in the log), then a new worker is tried: slower for the others, never lost; the bodies
 * the dead worker held are answered 500 (the sender sends them again, and what they carried folds
 * into the same incidents).
 *
 * `warm` starts the worker with the webhook routes rather than on the first big body: starting a
 * thread holds the main thread tens of milliseconds, the wait this class exists to avoid.
 */
import { Worker } from 'node:worker_threads';
import type { IntegrationConfig } from '../config/types';
import type { Logger } from '../ports/logger';
import type { ParseAnswer, ParseRequest } from './parse-worker';
import { parsePayloadInSlices, type NormalizedAlert, type ParseResult } from './payloads';

/** Bodies of at least this many bytes are read on the worker. */
export const BIG_BODY_BYTES = 256 * 1024;
/** After the worker failed, big bodies are read on the main thread this long before a new worker is tried. */
const RETRY_WORKER_MS = 60_000;

interface Pending {
  readonly alerts: NormalizedAlert[];
  readonly resolve: (result: ParseResult) => void;
  readonly reject: (err: Error) => void;
}

export class BigBodyParser {
  private worker: Worker | null = null;
  private broken = false;
  private closed = false;
  private retry: NodeJS.Timeout | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The last failure while big bodies are read on the main thread because of it (for /healthz). */
  private failure: { readonly error: string; readonly retryAt: number } | null = null;

  constructor(private readonly log: Logger) {}

  /** warm starts the worker now (with the webhook routes), so the first big body does not wait for it. */
  warm(): void {
    if (!this.broken) this.start();
  }

  /**
   * parse reads `body` on the worker. The body's memory moves to the worker when it is the body's
   * alone (copying 4 MB held the main thread ~20 ms, and cloning it as much again): `body` is
   * empty afterwards. Rejects (the sender gets 500 and sends again) if the worker dies meanwhile.
   */
  parse(integration: IntegrationConfig, body: Buffer): Promise<ParseResult> {
    const worker = this.broken ? null : this.start();
    // A throw (not a sender's mistake) becomes the promise's rejection, as from the worker.
    if (!worker) return new Promise((resolve) => resolve(parsePayloadInSlices(integration, body)));
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      const own = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength && body.buffer instanceof ArrayBuffer;
      const bytes = own ? new Uint8Array(body.buffer) : new Uint8Array(body);
      try {
        worker.postMessage({ id, integration, body: bytes } satisfies ParseRequest, [bytes.buffer as ArrayBuffer]);
      } catch (err) {
        // Nothing was handed over: this thread reads the body (a copy was sent, or the transfer failed before it moved).
        this.log.warn('could not hand a webhook body to the parse worker; reading it on the main thread', { error: err instanceof Error ? err.message : String(err) });
        // (A throw there rejects this promise: it is this promise's executor.)
        if (bytes.byteLength === body.byteLength && body.byteLength > 0) resolve(parsePayloadInSlices(integration, body));
        else reject(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      this.pending.set(id, { alerts: [], resolve, reject });
      if (this.pending.size === 1) worker.ref();
    });
  }

  /**
   * health, for /healthz: "ok", or "degraded: <why>" while big bodies are read on the main thread
   * because the worker failed (every other request waits while one is parsed there). Degraded, not
   * failing: the bodies are still read and their alerts still page.
   */
  health(): string {
    if (this.failure === null || !this.broken) return 'ok';
    const at = new Date(this.failure.retryAt).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return `degraded: the parse worker stopped (${this.failure.error}); bodies of ${BIG_BODY_BYTES / 1024} KiB or more are read on the main thread, holding up other requests while they are, until a new worker is tried after ${at}`;
  }

  /** close stops the worker (the app's stop); the bodies it still held are answered 500 (sent again). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.broken = true;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    if (worker) await worker.terminate();
    this.fallBack();
  }

  private start(): Worker | null {
    if (this.worker) return this.worker;
    try {
      // Compiled, the worker is plain JavaScript; from the TypeScript sources (tests, tsx) it needs tsx's loader,
      // by its full path: the worker's own require resolves from the working directory, not from here.
      const file = require.resolve('./parse-worker');
      const code = `${file.endsWith('.ts') ? `require(${JSON.stringify(require.resolve('tsx/cjs'))});\n` : ''}require(${JSON.stringify(file)});`;
      const worker = new Worker(code, { eval: true });
      worker.on('message', (answer: ParseAnswer) => this.answered(answer));
      worker.on('error', (err) => this.failed(worker, err, 'it failed'));
      worker.on('exit', (code) => {
        if (this.worker === worker) this.failed(worker, new Error(`the parse worker exited with code ${code}`), `it exited with code ${code}`);
      });
      worker.unref();
      this.worker = worker;
      return worker;
    } catch (err) {
      this.failed(null, err, 'it could not start');
      return null;
    }
  }

  private answered(answer: ParseAnswer): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    if ('alerts' in answer) {
      // Labels and annotations came through a structured clone: back to maps without a prototype
      // (a label named "constructor" must never find Object.prototype's members). The clone is
      // this thread's own, so its objects are taken over in place (copying each alert and its
      // two maps made 30,000 objects more for a 10,000-alert body, longer pauses for the others).
      for (const a of answer.alerts as NormalizedAlert[]) {
        Object.setPrototypeOf(a.labels, null);
        Object.setPrototypeOf(a.annotations, null);
        p.alerts.push(a);
      }
      // The next slice on a later turn: whatever else waits (a health check, a command) goes first.
      setImmediate(() => this.worker?.postMessage({ next: answer.id }));
      return;
    }
    this.pending.delete(answer.id);
    if (this.pending.size === 0) this.worker?.unref();
    if ('done' in answer) p.resolve({ ok: true, alerts: p.alerts });
    else if (answer.error.startsWith('internal: ')) {
      this.log.error('the parse worker failed on a webhook body; the sender gets 500 and sends it again', { error: answer.error });
      p.reject(new Error(`parse worker: ${answer.error}`));
    } else p.resolve({ ok: false, error: answer.error });
  }

  /**
   * failed: the worker is gone. `shown` is what /healthz says (no authentication there: a fixed
   * phrase, never the error's own text, which may name paths); the log has the error.
   */
  private failed(worker: Worker | null, err: unknown, shown: string): void {
    if (worker !== null && this.worker !== worker) return;
    this.worker = null;
    this.broken = true;
    const error = err instanceof Error ? err.message : String(err);
    this.failure = { error: `${shown}; the log has the error`, retryAt: Date.now() + RETRY_WORKER_MS };
    this.log.warn(`the parse worker for big webhook bodies is not available; big bodies are read on the main thread (other requests wait while they are) for the next ${RETRY_WORKER_MS / 1000} s`, {
      error,
    });
    this.fallBack();
    // A later big body tries a new worker (unless the server closed meanwhile).
    this.retry = setTimeout(() => {
      this.retry = null;
      if (!this.closed) this.broken = false;
    }, RETRY_WORKER_MS);
    this.retry.unref();
  }

  /** fallBack: bodies the worker held are gone with it; their senders get 500 and send again. */
  private fallBack(): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new Error('the parse worker stopped while it read this body'));
    }
  }
}
