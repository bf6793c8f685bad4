/**
 * The webhook endpoint: `POST /webhooks/INTEGRATION_ID` on the shared HTTP server.
 *
 * Checks, in order: 404 unknown integration; 415 unless the content type is application/json;
 * 401 unless the bearer token (alertmanager, grafana) or the HMAC-SHA256 signature of the raw body
 * (`X-Onehand-Signature: sha256=<hex>`, generic) matches, compared in constant time; 413 over the
 * integration's `max_body`; 429 with Retry-After from the integration's token bucket (nothing of a
 * refused request is kept); 400 naming the bad field. 202 is sent only after the alerts, their
 * incidents and notifications are committed to the database.
 *
 * Everything that the head tells (the integration, the content type, a bearer token, a declared
 * length over max_body) is checked before any of the body is read, so an unauthenticated sender
 * cannot make Onehand hold bodies; a generic integration's signature covers the body, which is read
 * up to that integration's max_body within the server's budget for unauthenticated bodies.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { IntakeOutcome, IntakeService } from '../app/intake-service';
import type { IntegrationConfig } from '../config/types';
import type { HttpRequest, HttpResponse, HttpServer, RequestHead } from '../http/server';
import type { Metrics } from '../app/metrics';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { BIG_BODY_BYTES, BigBodyParser } from './big-parse';
import { parsePayloadInSlices, type NormalizedAlert, type ParseResult } from './payloads';
import { TokenBucket } from './rate-limit';

export const WEBHOOK_PATH = '/webhooks/';
export const SIGNATURE_HEADER = 'x-onehand-signature';

/** IntegrationSecrets: each integration's secret, read from its environment variable at start. */
export type IntegrationSecrets = ReadonlyMap<string, string>;

/**
 * readIntegrationSecrets reads every integration's secret: from the environment variable its
 * token_env / hmac_secret_env names, or from the file its token_file / hmac_secret_file names
 * (relative paths from `baseDir`, the config file's folder). It throws one error listing every
 * secret that is unset, empty or unreadable, naming the integration and the key.
 */
export function readIntegrationSecrets(integrations: readonly IntegrationConfig[], env: NodeJS.ProcessEnv, baseDir = '.'): Map<string, string> {
  const secrets = new Map<string, string>();
  const missing: string[] = [];
  integrations.forEach((i, index) => {
    const generic = i.type === 'generic';
    const file = generic ? i.hmacSecretFile : i.tokenFile;
    const what = generic ? 'HMAC secret' : 'bearer token';
    if (file !== null) {
      const where = isAbsolute(file) ? file : resolve(baseDir, file);
      let value = '';
      try {
        value = readFileSync(where, 'utf8').trim();
      } catch (err) {
        missing.push(`integrations[${index}].${generic ? 'hmac_secret_file' : 'token_file'} (${i.id}): cannot read ${where} (${(err as NodeJS.ErrnoException).code ?? 'error'}); put the ${what} the sender uses in that file`);
        return;
      }
      if (value === '') missing.push(`integrations[${index}].${generic ? 'hmac_secret_file' : 'token_file'} (${i.id}): ${where} is empty; put the ${what} the sender uses in it`);
      else secrets.set(i.id, value);
      return;
    }
    const variable = generic ? i.hmacSecretEnv : i.tokenEnv;
    const key = generic ? 'hmac_secret_env' : 'token_env';
    const value = variable === null ? undefined : env[variable];
    if (variable === null || value === undefined || value.trim() === '') {
      missing.push(`integrations[${index}].${key} (${i.id}): environment variable ${variable ?? '(none)'} is not set; export it with the ${what} the sender uses`);
    } else secrets.set(i.id, value.trim());
  });
  if (missing.length > 0) throw new Error(`cannot start the alert intake:\n${missing.join('\n')}`);
  return secrets;
}

export interface WebhookDeps {
  readonly intake: IntakeService;
  readonly integrations: readonly IntegrationConfig[];
  readonly secrets: IntegrationSecrets;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Observes request-to-answer latency per integration and outcome, and counts unmapped severities (GET /metrics). */
  readonly metrics?: Pick<Metrics, 'observeIntake' | 'unmappedSeverity'>;
}

/** WebhookHealth: what /healthz shows of the intake besides the store (see BigBodyParser.health). */
export interface WebhookHealth {
  /** "ok" or "degraded: <why>"; null when no integration can receive a big body (no worker runs). */
  parseWorker(): string | null;
  /** Severity label values no integration maps, seen in the last day (see UnmappedSeverities); null when none. */
  severities(): string | null;
}

/**
 * registerWebhooks adds `POST /webhooks/*` to `http` (nothing when there are no integrations) and
 * returns what /healthz shows of it.
 */
export function registerWebhooks(http: HttpServer, deps: WebhookDeps): WebhookHealth {
  if (deps.integrations.length === 0) return { parseWorker: () => null, severities: () => null };
  const buckets = new Map<string, TokenBucket>();
  for (const i of deps.integrations) buckets.set(i.id, new TokenBucket(i.rateLimit.requests, i.rateLimit.perMs, deps.clock));
  const maxBody = Math.max(...deps.integrations.map((i) => i.maxBodyBytes));
  const big = new BigBodyParser(deps.logger);
  // The worker only runs when some integration can receive a big body.
  const bigBodies = deps.integrations.some((i) => i.type !== 'generic' && i.maxBodyBytes >= BIG_BODY_BYTES);
  if (bigBodies) big.warm();
  http.onClose(() => big.close());
  const order = new ArrivalOrder();
  const unmapped = new UnmappedSeverities(deps);
  const observe = (path: string, started: bigint, status: number) => {
    const integration = decodeSafe(path.slice(WEBHOOK_PATH.length)) ?? 'unknown';
    if (deps.intake.integration(integration)) {
      deps.metrics?.observeIntake(integration, Number(process.hrtime.bigint() - started) / 1e9, status === 202 ? 'accepted' : `rejected_${status}`);
    }
  };
  http.route('POST', `${WEBHOOK_PATH}*`, async (req) => {
    const started = process.hrtime.bigint();
    const response = await handleWebhook(req, deps, buckets, big, order, unmapped);
    observe(req.path, started, response.status);
    return response;
  }, {
    maxBodyBytes: maxBody,
    before: (head) => {
      const started = process.hrtime.bigint();
      const checked = checkHead(head, deps);
      if ('status' in checked) {
        observe(head.path, started, checked.status);
        return checked;
      }
      const declared = Number(head.headers['content-length'] ?? 0);
      if (declared > checked.integration.maxBodyBytes) {
        observe(head.path, started, 413);
        return tooLarge(checked.integration);
      }
      return { maxBodyBytes: checked.integration.maxBodyBytes, authenticated: checked.integration.type !== 'generic' };
    },
  });
  return { parseWorker: () => (bigBodies ? big.health() : null), severities: () => unmapped.health() };
}

/**
 * checkHead checks what the request head tells: the integration (404), the content type (415) and,
 * for bearer-token integrations, the token (401). The HMAC signature needs the body (handleWebhook).
 */
function checkHead(head: RequestHead, deps: WebhookDeps): HttpResponse | { integration: IntegrationConfig } {
  const id = decodeSafe(head.path.slice(WEBHOOK_PATH.length));
  const integration = id === null ? undefined : deps.intake.integration(id);
  if (!integration) return error(404, `no integration "${id ?? head.path}"; integrations are declared under "integrations:" in the config`);
  const given = head.headers['content-type'];
  const type = given === 'application/json' ? given : String(given ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/json') return error(415, `content type must be application/json, got ${type ? JSON.stringify(type) : 'none'}`);
  const secret = deps.secrets.get(integration.id);
  if (integration.type !== 'generic' && (secret === undefined || !bearerMatches(head, secret))) return unauthorized(integration);
  return { integration };
}

function unauthorized(integration: IntegrationConfig): HttpResponse {
  return error(401, integration.type === 'generic'
    ? `missing or bad signature; send ${SIGNATURE_HEADER}: sha256=<hex HMAC-SHA256 of the body>`
    : 'missing or bad bearer token; send Authorization: Bearer <token>', { 'www-authenticate': integration.type === 'generic' ? 'HMAC' : 'Bearer' });
}

function tooLarge(integration: IntegrationConfig): HttpResponse {
  return error(413, `the body is larger than ${integration.maxBodyBytes} bytes (max_body)`);
}

/**
 * handleWebhook answers a request whose head `before` accepted (the HttpServer runs it first, and
 * refuses the request when it answers): integration, content type and bearer token are checked.
 */
async function handleWebhook(req: HttpRequest, deps: WebhookDeps, buckets: Map<string, TokenBucket>, big: BigBodyParser, order: ArrivalOrder, unmapped: UnmappedSeverities): Promise<HttpResponse> {
  const id = decodeSafe(req.path.slice(WEBHOOK_PATH.length));
  const integration = id === null ? undefined : deps.intake.integration(id);
  if (!integration) return checkHead(req, deps) as HttpResponse;
  const secret = deps.secrets.get(integration.id);
  if (integration.type === 'generic' && (secret === undefined || !signatureMatches(req, secret))) return unauthorized(integration);
  if (req.body.length > integration.maxBodyBytes) return tooLarge(integration);
  const wait = buckets.get(integration.id)?.take() ?? 0;
  if (wait > 0) {
    const seconds = Math.max(1, Math.ceil(wait / 1000));
    return error(429, `rate limit of ${integration.rateLimit.requests} requests per ${integration.rateLimit.perMs / 1000}s reached; retry after ${seconds}s`, { 'retry-after': String(seconds) });
  }
  // A big body is read on a worker thread, so nobody else waits while it is parsed; the request
  // still joins its integration's queue in the order it arrived (a resolve sent after a big firing
  // must not overtake it while the firing is being parsed).
  const bigBody = req.body.length >= BIG_BODY_BYTES && integration.type !== 'generic';
  if (!bigBody && !order.waiting(integration.id)) {
    // Nothing of this integration is still being read: a body read at once joins the queue in
    // this turn, so nothing can overtake it, and it needs no turn of its own.
    const parsed = parsePayloadInSlices(integration, req.body);
    if (!(parsed instanceof Promise)) return answer(parsed.ok ? { queued: deps.intake.accept(integration, parsed.alerts), alerts: parsed.alerts } : error(400, parsed.error));
    return answer(await inOrder(order.take(integration.id), () => parsed));
  }
  return answer(await inOrder(order.take(integration.id), () => (bigBody ? big.parse(integration, req.body) : parsePayloadInSlices(integration, req.body))));

  /**
   * inOrder: the parse result (`parse` starts it) joins the intake queue once the integration's earlier requests have
   * (or were refused); the accepted alerts' commit is waited for outside (the next request of the
   * integration must not wait for it).
   */
  async function inOrder(turn: { ready: Promise<void>; done: () => void }, parse: () => ParseResult | Promise<ParseResult>): Promise<HttpResponse | Queued> {
    try {
      // The parse starts in here: should it throw, the turn still ends (later requests would wait for it for ever).
      const parsed = await parse();
      await turn.ready;
      if (!parsed.ok) return error(400, parsed.error);
      return { queued: deps.intake.accept(integration as IntegrationConfig, parsed.alerts), alerts: parsed.alerts }; // queued here, synchronously
    } finally {
      turn.done();
    }
  }

  /**
   * answer: 202 once the queued alerts are committed, or the refusal as it is. A 202 says which
   * severity label values took the integration's default (`warnings`; Alertmanager ignores the
   * body, someone trying the webhook by hand reads it).
   */
  async function answer(result: HttpResponse | Queued): Promise<HttpResponse> {
    if ('status' in result) return result;
    const outcome = await result.queued;
    const warnings = unmapped.seen(integration as IntegrationConfig, result.alerts);
    return { status: 202, body: warnings.length === 0 ? { accepted: outcome.alerts, incidents: outcome.incidents } : { accepted: outcome.alerts, incidents: outcome.incidents, warnings } };
  }
}

/** A request's alerts, queued for their commit. */
interface Queued {
  readonly queued: Promise<IntakeOutcome>;
  readonly alerts: readonly NormalizedAlert[];
}

/** How long /healthz shows an unmapped severity value after it was last seen. */
const UNMAPPED_SHOWN_MS = 24 * 3_600_000;
/** Values kept per integration (a sender putting free text in the label must not grow memory). */
const UNMAPPED_KEPT = 20;

/**
 * UnmappedSeverities: the severity label values that an integration's `severity.map` does not name
 * (nor sev1..sev4), so that their alerts took its default severity. An alert labelled "P1" or
 * "page" by a sender nobody mapped would otherwise become a quiet sev3 and nobody would know: each
 * value is logged once (a warning naming the fix), counted in /metrics, answered in the 202's
 * `warnings`, and shown in /healthz for a day after it was last seen (not a failure of the probe:
 * the alerts were kept and paged at the default).
 */
class UnmappedSeverities {
  private readonly byIntegration = new Map<string, Map<string, { count: number; last: number }>>();
  private readonly index = new Map<string, number>();

  constructor(private readonly deps: WebhookDeps) {
    deps.integrations.forEach((i, n) => this.index.set(i.id, n));
  }

  /** seen: records a committed request's unmapped values; the 202's warnings (none for nearly every request). */
  seen(integration: IntegrationConfig, alerts: readonly NormalizedAlert[]): string[] {
    let counts: Map<string, number> | null = null;
    for (const a of alerts) {
      if (a.unmappedSeverity === null) continue;
      counts ??= new Map();
      counts.set(a.unmappedSeverity, (counts.get(a.unmappedSeverity) ?? 0) + 1);
    }
    if (counts === null) return [];
    const now = this.deps.clock.now().toMillis();
    let values = this.byIntegration.get(integration.id);
    if (values === undefined) this.byIntegration.set(integration.id, values = new Map());
    const warnings: string[] = [];
    for (const [value, n] of counts) {
      this.deps.metrics?.unmappedSeverity(integration.id, n);
      const known = values.get(value);
      if (known === undefined) {
        if (values.size >= UNMAPPED_KEPT) values.delete(oldest(values));
        values.set(value, { count: n, last: now });
        this.deps.logger.warn('alerts took the default severity: their severity label value is not mapped', {
          integration: integration.id, label: integration.severity.label, value, took: integration.severity.default, fix: this.fix(integration),
        });
      } else {
        known.count += n;
        known.last = now;
      }
      warnings.push(`${n === 1 ? 'an alert' : `${n} alerts`} with ${integration.severity.label} "${value}" took the default severity ${integration.severity.default}: "${value}" is neither in this integration's severity map nor sev1..sev4; ${this.fix(integration)}`);
    }
    return warnings;
  }

  /** health: each integration's values seen in the last day, with the fix; null when none. */
  health(): string | null {
    const since = this.deps.clock.now().toMillis() - UNMAPPED_SHOWN_MS;
    const parts: string[] = [];
    for (const [id, values] of this.byIntegration) {
      const recent = [...values].filter(([, v]) => v.last >= since);
      if (recent.length === 0) continue;
      const integration = this.deps.intake.integration(id) as IntegrationConfig;
      const listed = recent.map(([value, v]) => `"${value}" (${v.count} since start, last ${new Date(v.last).toISOString().slice(0, 16)}Z)`).join(', ');
      parts.push(`integration ${id}: ${integration.severity.label} ${listed} took the default ${integration.severity.default}; ${this.fix(integration)}`);
    }
    return parts.length === 0 ? null : `degraded: alerts took a default severity in the last day: ${parts.join('; ')}`;
  }

  private fix(integration: IntegrationConfig): string {
    return `map the value under integrations[${this.index.get(integration.id) ?? 0}].severity.map in the config (e.g. P1: sev1)`;
  }
}

function oldest(values: Map<string, { last: number }>): string {
  let key = '';
  let at = Infinity;
  for (const [k, v] of values) if (v.last < at) [key, at] = [k, v.last];
  return key;
}

/**
 * ArrivalOrder hands each integration's requests turns in the order they arrived: `ready` settles
 * once every earlier request of that integration has joined the intake queue (or was refused), and
 * `done` says this one has.
 */
class ArrivalOrder {
  private readonly last = new Map<string, Promise<void>>();

  /** waiting: whether a request of `integration` took a turn and has not joined the queue yet. */
  waiting(integration: string): boolean {
    return this.last.has(integration);
  }

  take(integration: string): { ready: Promise<void>; done: () => void } {
    const ready = this.last.get(integration) ?? Promise.resolve();
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    this.last.set(integration, mine);
    void mine.then(() => {
      if (this.last.get(integration) === mine) this.last.delete(integration);
    });
    return { ready, done };
  }
}

/** bearerMatches: the Authorization header carries the integration's token (constant-time compare). */
function bearerMatches(head: RequestHead, secret: string): boolean {
  const m = /^Bearer\s+(.+)$/i.exec(String(head.headers.authorization ?? '').trim());
  return sameCredential(m?.[1] ?? '', secret, true);
}

/** signatureMatches: X-Onehand-Signature is the HMAC-SHA256 of the body with the secret. */
function signatureMatches(req: HttpRequest, secret: string): boolean {
  const given = String(req.headers[SIGNATURE_HEADER] ?? '').trim().toLowerCase();
  return sameCredential(given, `sha256=${createHmac('sha256', secret).update(req.body).digest('hex')}`);
}

/**
 * sameCredential compares a credential with the expected one in constant time (timingSafeEqual):
 * only its length can be timed, and a token's length is not its secret. The expected bearer
 * tokens' bytes (a handful, read at start) are kept; a webhook's token is compared per request,
 * and hashing both sides first (as this did) cost a busy webhook about 2% of its time.
 */
function sameCredential(given: string, expected: string, configured = false): boolean {
  if (given === '') return false;
  let wanted = configured ? secretBytes.get(expected) : undefined;
  if (wanted === undefined) {
    wanted = Buffer.from(expected, 'utf8');
    if (configured) secretBytes.set(expected, wanted);
  }
  if (Buffer.byteLength(given, 'utf8') !== wanted.length) return false;
  return timingSafeEqual(Buffer.from(given, 'utf8'), wanted);
}

/** The configured bearer tokens' bytes (a handful, read at start). */
const secretBytes = new Map<string, Buffer>();

function decodeSafe(text: string): string | null {
  if (!text.includes('%')) return text; // nothing to decode (an integration id as it is, every time)
  try {
    return decodeURIComponent(text);
  } catch {
    return null;
  }
}

function error(status: number, message: string, headers: Record<string, string> = {}): HttpResponse {
  return { status, headers, body: { error: message } };
}
