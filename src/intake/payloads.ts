/**
 * Webhook payloads: Alertmanager (webhook version 4), Grafana unified alerting (version 1, the same
 * shape plus a few fields) and Onehand's generic format, read into NormalizedAlerts.
 *
 * parsePayload never throws for bad input: it returns the first problem, naming the field
 * (`alerts[2].status: expected "firing" or "resolved"`), and the caller answers 400 with it. Every
 * string taken from a payload is untrusted text: it is kept as data and only ever reaches people as
 * user segments of RichText.
 */
import { createHash } from 'node:crypto';
import type { Severity } from '../core/incident/types';
import { cutText, mayHoldUnstorable, storableValue } from '../core/text/storable';
import type { IntegrationConfig } from '../config/types';
import type { IntakeAlert } from '../ports/store';

/** NormalizedAlert: one alert, whatever the sender: the stored alert fields, plus what an incident needs. */
export interface NormalizedAlert extends Omit<IntakeAlert, 'integration'> {
  /** From annotations.summary, else labels.alertname (untrusted). */
  readonly title: string;
  /** From labels.service, else labels.job (untrusted). */
  readonly service: string | null;
  readonly severity: Severity;
  readonly url: string | null;
  /**
   * The severity label's value when neither the integration's map nor sev1..sev4 names it (the
   * alert took the integration's default severity); null otherwise. An urgent alert whose label
   * nobody mapped must not quietly become a sev3: the 202, the timeline and /healthz say so.
   */
  readonly unmappedSeverity: string | null;
}

export type ParseResult = { ok: true; alerts: NormalizedAlert[] } | { ok: false; error: string };

/** Longest title kept; longer summaries are cut (the full text stays in the stored annotations). */
export const MAX_TITLE = 200;
/** Longest unmapped severity label value kept to be shown (see NormalizedAlert.unmappedSeverity). */
const MAX_SEVERITY_LABEL = 60;
const MAX_ALERTS = 10_000;
const SEVERITIES: readonly string[] = ['sev1', 'sev2', 'sev3', 'sev4'];

class Bad extends Error {}

/** readJson: the body as JSON, or the error a sender gets for it. */
function readJson(body: Buffer): { ok: true; data: unknown } | { ok: false; error: string } {
  const text = body.toString('utf8');
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch (err) {
    return { ok: false, error: `body: not valid JSON (${err instanceof Error ? err.message : String(err)})` };
  }
  if (!mayHoldUnstorable(text)) return { ok: true, data };
  try {
    return { ok: true, data: storableValue(data) };
  } catch (err) {
    if (!(err instanceof RangeError)) throw err;
    return { ok: false, error: 'body: nested too deeply (thousands of levels); a webhook is a few levels deep' };
  }
}

/** parsePayload reads a raw JSON body for `integration`. */
export function parsePayload(integration: IntegrationConfig, body: Buffer): ParseResult {
  const json = readJson(body);
  if (!json.ok) return json;
  const data = json.data;
  try {
    const alerts = integration.type === 'generic' ? [readGeneric(integration, data)] : readAlertmanager(integration, data);
    return { ok: true, alerts };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, error: err.message };
    throw err;
  }
}

/**
 * parsePayloadInSlices is parsePayload for the webhook route: the same result, but a long alert
 * list is checked `slice` alerts at a time, letting other requests run in between. A list of at
 * most `slice` alerts (nearly every webhook) is read at once and the result returned as it is,
 * not as a promise: the caller can queue it in the same turn.
 */
export function parsePayloadInSlices(integration: IntegrationConfig, body: Buffer, slice = 500): ParseResult | Promise<ParseResult> {
  if (integration.type === 'generic') return parsePayload(integration, body);
  const json = readJson(body);
  if (!json.ok) return json;
  try {
    const { list, groupStatus } = alertmanagerList(integration, json.data);
    if (list.length <= slice) return { ok: true, alerts: list.map((raw, i) => readAlertmanagerAlert(integration, raw, i, groupStatus)) };
    return readInSlices(integration, list, groupStatus, slice);
  } catch (err) {
    if (err instanceof Bad) return { ok: false, error: err.message };
    throw err;
  }
}

async function readInSlices(integration: IntegrationConfig, list: readonly unknown[], groupStatus: 'firing' | 'resolved' | undefined, slice: number): Promise<ParseResult> {
  const alerts: NormalizedAlert[] = [];
  try {
    for (let i = 0; i < list.length; i++) {
      if (i > 0 && i % slice === 0) await new Promise((resolve) => setImmediate(resolve));
      alerts.push(readAlertmanagerAlert(integration, list[i], i, groupStatus));
    }
    return { ok: true, alerts };
  } catch (err) {
    if (err instanceof Bad) return { ok: false, error: err.message };
    throw err;
  }
}

function readAlertmanager(integration: IntegrationConfig, data: unknown): NormalizedAlert[] {
  const { list, groupStatus } = alertmanagerList(integration, data);
  return list.map((raw, i) => readAlertmanagerAlert(integration, raw, i, groupStatus));
}

/** alertmanagerList: the checked envelope of an Alertmanager or Grafana webhook: its alerts and group status. */
function alertmanagerList(integration: IntegrationConfig, data: unknown): { list: unknown[]; groupStatus: 'firing' | 'resolved' | undefined } {
  const body = record(data, 'body', 'a JSON object with "alerts" (an Alertmanager or Grafana webhook)');
  const wanted = integration.type === 'grafana' ? '1' : '4';
  if (body.version !== undefined && body.version !== wanted) {
    throw new Bad(`version: expected "${wanted}" (the ${integration.type} webhook format), got ${JSON.stringify(body.version)}`);
  }
  if (!Array.isArray(body.alerts)) throw new Bad(`alerts: expected a list of alerts, got ${describe(body.alerts)}`);
  if (body.alerts.length > MAX_ALERTS) throw new Bad(`alerts: ${body.alerts.length} alerts in one request; at most ${MAX_ALERTS}`);
  const groupStatus = body.status === undefined ? undefined : status(body.status, 'status');
  return { list: body.alerts as unknown[], groupStatus };
}

function readAlertmanagerAlert(integration: IntegrationConfig, raw: unknown, i: number, groupStatus: 'firing' | 'resolved' | undefined): NormalizedAlert {
  // Paths such as alerts[3].labels are written only into an error (a webhook's alerts are read on
  // the hot path, and seven strings per alert were built for nothing).
  const a = record(raw, '', 'an alert object', i);
  const labels = stringMap(a.labels, 'labels', true, i);
  const annotations = stringMap(a.annotations, 'annotations', false, i);
  const st = a.status === undefined && groupStatus !== undefined ? groupStatus : status(a.status, 'status', i);
  const startsAt = optionalString(a.startsAt, 'startsAt', i);
  const senderFp = optionalString(a.fingerprint, 'fingerprint', i);
  const url = optionalString(a.generatorURL, 'generatorURL', i);
  if (!labels.alertname && !annotations.summary) throw new Bad(`${where('labels.alertname', i)}: missing (and no annotations.summary); an alert needs a name`);
  return normalize(integration, { labels, annotations, status: st, startsAt, senderFp, url, title: annotations.summary ?? labels.alertname ?? '' });
}

/**
 * The generic format: one alert per request,
 * `{ title, status: firing|resolved, severity?, service?, fingerprint?, labels?, annotations?, url? }`.
 */
function readGeneric(integration: IntegrationConfig, data: unknown): NormalizedAlert {
  const a = record(data, 'body', 'a JSON object such as {"title": "...", "status": "firing"}');
  const known = new Set(['title', 'status', 'severity', 'service', 'fingerprint', 'labels', 'annotations', 'url']);
  for (const key of Object.keys(a)) {
    if (!known.has(key)) throw new Bad(`${key}: unknown field; the fields are ${[...known].join(', ')}`);
  }
  const title = a.title;
  if (typeof title !== 'string' || title.trim() === '') throw new Bad(`title: expected a non-empty string, got ${describe(title)}`);
  const st = status(a.status, 'status');
  const labels = { ...stringMap(a.labels, 'labels', false) };
  const annotations = stringMap(a.annotations, 'annotations', false);
  const service = optionalString(a.service, 'service');
  if (service !== null) labels.service = service;
  const severity = optionalString(a.severity, 'severity');
  const fingerprint = optionalString(a.fingerprint, 'fingerprint');
  const url = optionalString(a.url, 'url');
  let sev: Severity | undefined;
  if (severity !== null) {
    const named = severity.trim().toLowerCase();
    if (SEVERITIES.includes(named)) sev = named as Severity;
    else labels[integration.severity.label] = severity;
  }
  const senderFp = fingerprint ?? hashOf({ title: title.trim(), labels: sortedEntries(labels) });
  return normalize(integration, { labels, annotations, status: st, startsAt: null, senderFp, url, title: title.trim(), severity: sev });
}

interface Parts {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  status: 'firing' | 'resolved';
  startsAt: string | null;
  senderFp: string | null;
  url: string | null;
  title: string;
  severity?: Severity;
}

/**
 * Longest fingerprint a sender's own is kept as; a longer one is replaced by its hash (the same
 * every time, so repeats still fold). Fingerprints are keys of the store's indexes, and PostgreSQL
 * refuses an index entry over 2,704 bytes: one alert with a huge fingerprint failed its batch.
 * Migration 8 rewrites rows an older Onehand stored under such a key (src/store/rekey.ts).
 */
export const MAX_FINGERPRINT = 200;

/** senderKey: a sender's fingerprint as kept (see MAX_FINGERPRINT; stores rewrite older rows the same way). */
export function senderKey(fingerprint: string): string {
  return fingerprint.length > MAX_FINGERPRINT ? `sha256:${hashOf(fingerprint)}` : fingerprint;
}

function normalize(integration: IntegrationConfig, p: Parts): NormalizedAlert {
  const sent = p.senderFp === null ? null : senderKey(p.senderFp);
  const alertKey = sent ?? hashOf(sortedEntries(p.labels));
  const fingerprint = integration.fingerprintLabels
    ? hashOf(integration.fingerprintLabels.map((l) => [l, p.labels[l] ?? null]))
    : alertKey;
  const title = cutText(p.title.trim() || 'alert', MAX_TITLE);
  const label = p.labels[integration.severity.label];
  const mapped = label === undefined ? undefined : severityOf(integration.severity, label);
  return {
    fingerprint,
    alertKey,
    status: p.status,
    startsAt: p.startsAt,
    labels: p.labels,
    annotations: p.annotations,
    title,
    service: p.labels.service ?? p.labels.job ?? null,
    severity: p.severity ?? mapped ?? integration.severity.default,
    url: p.url,
    unmappedSeverity: p.severity === undefined && mapped === undefined && label !== undefined && label.trim() !== '' ? cutText(label, MAX_SEVERITY_LABEL) : null,
  };
}

/** Each integration's severity map with its keys in lower case, and sev1..sev4 (see severityOf). */
const foldedMaps = new WeakMap<IntegrationConfig['severity'], Map<string, Severity>>();

/**
 * severityOf: a severity label's value as a severity: the map's own entry, else the same value in
 * any case ("Critical", "CRITICAL"), else a severity named as such ("sev1", "SEV2"); undefined
 * otherwise (the integration's default applies). An urgent alert must not become a sev3 because
 * its sender capitalises.
 */
function severityOf(severity: IntegrationConfig['severity'], value: string): Severity | undefined {
  // Own keys only: a label value such as "constructor" must not find Object.prototype's members.
  if (Object.hasOwn(severity.map, value)) return severity.map[value];
  let folded = foldedMaps.get(severity);
  if (folded === undefined) {
    folded = new Map<string, Severity>(SEVERITIES.map((s) => [s, s as Severity]));
    for (const [k, v] of Object.entries(severity.map)) folded.set(k.trim().toLowerCase(), v);
    foldedMaps.set(severity, folded);
  }
  return folded.get(value.trim().toLowerCase());
}

/** hashOf: a short stable hash of a JSON value (label sets are sorted before). */
export function hashOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

function sortedEntries(map: Record<string, string>): [string, string][] {
  return Object.entries(map).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** where: the path of a field in an error: `field` of the body, or of alert `i` (`alerts[i].field`) when i >= 0. */
function where(field: string, i: number): string {
  if (i < 0) return field;
  return field === '' ? `alerts[${i}]` : `alerts[${i}].${field}`;
}

function record(value: unknown, field: string, what: string, i = -1): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Bad(`${where(field, i)}: expected ${what}, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function status(value: unknown, field: string, i = -1): 'firing' | 'resolved' {
  if (value === 'firing' || value === 'resolved') return value;
  throw new Bad(`${where(field, i)}: expected "firing" or "resolved", got ${describe(value)}`);
}

function optionalString(value: unknown, field: string, i = -1): string | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value !== 'string') throw new Bad(`${where(field, i)}: expected a string, got ${describe(value)}`);
  return value;
}

/**
 * stringMap: an object of string values (numbers and booleans are turned into text), without a
 * prototype, so a label named "constructor" finds nothing of Object.prototype. The parsed object
 * is checked and taken over in place (it belongs to this parse): copying into a new object made
 * each map a dictionary-mode object, a sixth of a small webhook's handling.
 */
function stringMap(value: unknown, field: string, required: boolean, i = -1): Record<string, string> {
  if (value === undefined || value === null) {
    if (required) throw new Bad(`${where(field, i)}: missing; expected an object of label names to values`);
    return Object.create(null) as Record<string, string>;
  }
  const obj = record(value, field, 'an object of names to string values', i);
  // for-in over a parsed object walks V8's cached key list; Object.keys built an array per map.
  // Own keys only (should anything ever add an enumerable member to Object.prototype).
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    const v = obj[key];
    if (typeof v === 'string') continue;
    if (typeof v === 'number' || typeof v === 'boolean') obj[key] = String(v);
    else throw new Bad(`${where(field, i)}.${key}: expected a string, got ${describe(v)}`);
  }
  return Object.setPrototypeOf(obj, null) as Record<string, string>;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return `${typeof value} ${String(value)}`;
}
