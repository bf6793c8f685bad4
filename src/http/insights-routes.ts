/**
 * registerInsightsRoutes: the HTTP side of team insights and operations.
 *
 * - GET /metrics: Prometheus text (the app's own registry). Unauthenticated, like /healthz: keep
 *   the HTTP server on a private address or behind the proxy that guards it.
 * - GET /api/teams/ID/report?since=30d: the figures as JSON; `Authorization: Bearer $ONEHAND_API_TOKEN`.
 * - GET /dashboard?token=$ONEHAND_API_TOKEN: sets the dashboard's cookie and redirects to
 *   /dashboard, the page (with that cookie, or the token as a bearer token).
 * - GET /calendar/TEAM.ics?token=T and /calendar/TEAM/MEMBER.ics?token=T: iCalendar feeds; each feed
 *   has its own token, an HMAC of the feed's path with $ONEHAND_CALENDAR_SECRET (`onehand
 *   calendar-link` prints the links), so one person's link can be shared or revoked alone (by
 *   rotating the secret, all links change).
 *
 * Without ONEHAND_API_TOKEN the API and the dashboard are off; without ONEHAND_CALENDAR_SECRET the
 * feeds are off. Each says so in the log at start and in its 404 answer.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { OnehandApp } from '../app/app';
import { parseSince } from '../app/insights-service';
import type { Clock } from '../ports/clock';
import type { Logger } from '../ports/logger';
import { renderDashboard } from './dashboard';
import type { HttpRequest, HttpResponse, HttpServer } from './server';

export const API_TOKEN_ENV = 'ONEHAND_API_TOKEN';
export const CALENDAR_SECRET_ENV = 'ONEHAND_CALENDAR_SECRET';

/** calendarToken: the token of one feed (the team's, or one member's in it). */
export function calendarToken(secret: string, team: string, member?: string): string {
  return createHmac('sha256', secret).update(`onehand-calendar:${team}${member === undefined ? '' : `/${member}`}`).digest('base64url').slice(0, 32);
}

/** calendarPath: the feed's path with its token, e.g. /calendar/payments/alice.ics?token=... */
export function calendarPath(secret: string, team: string, member?: string): string {
  return `/calendar/${encodeURIComponent(team)}${member === undefined ? '' : `/${encodeURIComponent(member)}`}.ics?token=${calendarToken(secret, team, member)}`;
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function bearer(req: HttpRequest): string {
  const header = req.headers.authorization ?? '';
  const m = /^Bearer\s+(.+)$/i.exec(header.trim());
  return m ? (m[1] as string).trim() : '';
}

const NO_STORE = { 'cache-control': 'no-store' };

/** The dashboard's cookie: an HMAC of the API token (see dashboardSession), never the token itself. */
const DASHBOARD_COOKIE = 'onehand_dashboard';

/** dashboardSession: the cookie's value; it opens the dashboard alone (not the report API) and changes with the token. */
function dashboardSession(apiToken: string): string {
  return createHmac('sha256', apiToken).update('onehand dashboard session').digest('base64url');
}

/** cookie: the value of the request's cookie `name`, or ''. */
function cookie(req: HttpRequest, name: string): string {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim();
  }
  return '';
}

export function registerInsightsRoutes(http: HttpServer, options: { app: OnehandApp; env: NodeJS.ProcessEnv; clock: Clock; logger: Logger }): void {
  const { app, env, clock, logger } = options;
  const apiToken = env[API_TOKEN_ENV]?.trim() || null;
  const calendarSecret = env[CALENDAR_SECRET_ENV]?.trim() || null;
  if (!apiToken) logger.info(`report API and dashboard are off: set ${API_TOKEN_ENV} to turn them on`);
  if (!calendarSecret) logger.info(`calendar feeds are off: set ${CALENDAR_SECRET_ENV} to turn them on`);

  http.route('GET', '/metrics', async () => {
    const { contentType, body } = await app.metrics.render();
    return { status: 200, headers: { 'content-type': contentType, ...NO_STORE }, body };
  });

  http.route('GET', '/api/teams/*', async (req): Promise<HttpResponse> => {
    if (!apiToken) return { status: 404, body: { error: `the report API is off; set ${API_TOKEN_ENV}` } };
    if (!sameSecret(bearer(req), apiToken)) return { status: 401, headers: { 'www-authenticate': 'Bearer' }, body: { error: 'missing or wrong bearer token' } };
    const m = /^\/api\/teams\/([^/]+)\/report$/.exec(req.path);
    if (!m) return { status: 404, body: { error: 'use /api/teams/ID/report' } };
    const since = parseSince(req.query.get('since') ?? undefined, 'the since parameter');
    if ('error' in since) return { status: 400, body: { error: since.error } };
    const report = await app.insights.report(decodeURIComponent(m[1] as string), clock.now(), since.ms);
    if (!report) return { status: 404, body: { error: `no team "${decodeURIComponent(m[1] as string)}"` } };
    return { status: 200, headers: NO_STORE, body: report };
  });

  http.route('GET', '/dashboard', async (req): Promise<HttpResponse> => {
    if (!apiToken) return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `The dashboard is off; set ${API_TOKEN_ENV}.\n` };
    const session = dashboardSession(apiToken);
    const fromUrl = req.query.get('token');
    if (fromUrl !== null) {
      if (!sameSecret(fromUrl, apiToken)) return { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Missing or wrong token.\n' };
      // The token leaves the address bar (and the history, and what is shared from it) at once: a
      // cookie for this page alone, which is not the token (it opens no API), takes its place.
      const since = req.query.get('since');
      const secure = req.headers['x-forwarded-proto'] === 'https' || (req.raw.socket as { encrypted?: boolean }).encrypted === true ? '; Secure' : '';
      return {
        status: 303,
        headers: {
          location: `/dashboard${since === null ? '' : `?since=${encodeURIComponent(since)}`}`,
          'set-cookie': `${DASHBOARD_COOKIE}=${session}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=43200${secure}`,
          'referrer-policy': 'no-referrer',
          ...NO_STORE,
        },
      };
    }
    if (!sameSecret(cookie(req, DASHBOARD_COOKIE), session) && !sameSecret(bearer(req), apiToken)) {
      return { status: 401, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Missing or wrong token: open /dashboard?token=$ONEHAND_API_TOKEN once (the page keeps a cookie for 12 hours), or send it as a bearer token.\n' };
    }
    const since = parseSince(req.query.get('since') ?? undefined, 'the since parameter');
    if ('error' in since) return { status: 400, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${since.error}\n` };
    const now = clock.now();
    const html = renderDashboard(app.world, await app.insights.dashboard(now, since.ms), now);
    return {
      status: 200,
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        'referrer-policy': 'no-referrer',
        'x-content-type-options': 'nosniff',
        ...NO_STORE,
      },
      body: html,
    };
  });

  http.route('GET', '/calendar/*', async (req): Promise<HttpResponse> => {
    const text = (status: number, body: string): HttpResponse => ({ status, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: `${body}\n` });
    if (!calendarSecret) return text(404, `Calendar feeds are off; set ${CALENDAR_SECRET_ENV}.`);
    const m = /^\/calendar\/([^/]+?)(?:\/([^/]+?))?\.ics$/.exec(req.path);
    if (!m) return text(404, 'Use /calendar/TEAM.ics or /calendar/TEAM/MEMBER.ics.');
    const team = decodeURIComponent(m[1] as string);
    const member = m[2] === undefined ? undefined : decodeURIComponent(m[2]);
    // The token first: without it, an unknown and a known team or member get the same answer, so
    // the feed URLs do not reveal which ids exist.
    if (!sameSecret(req.query.get('token') ?? '', calendarToken(calendarSecret, team, member))) return text(401, 'Missing or wrong token for this calendar.');
    const known = app.world.teams.get(team);
    if (!known || (member !== undefined && !(known.members.includes(member) || known.lead === member || known.rotation.members.includes(member)))) return text(404, 'No such calendar.');
    const ics = await app.insights.calendar(team, clock.now(), member);
    if (ics === null) return text(404, 'No such calendar.');
    return { status: 200, headers: { 'content-type': 'text/calendar; charset=utf-8', 'content-disposition': `inline; filename="${team}${member ? `-${member}` : ''}.ics"`, ...NO_STORE }, body: ics };
  });
}
