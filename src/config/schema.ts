/**
 * The JSON schema of onehand.yaml: structure and types only (which keys exist, which are required,
 * what type each value has). Meaning (durations, zones, dates, references between ids) is checked
 * in validate.ts after the schema passes for that part.
 *
 * Every value schema carries a `description` that reads as "what is expected here", e.g.
 * `an IANA time zone such as "Europe/Berlin"`; validate.ts builds its error messages from it.
 * Optional keys also accept an empty value (`escalation:` with nothing after it), meaning "default".
 */
import type { SchemaObject } from 'ajv';
import { DURATION_HINT } from '../core/time/duration';

/** ID_PATTERN: ids are lowercase because commands use them ("oncall override alice ..."). */
export const ID_PATTERN = '^[a-z0-9][a-z0-9_-]*$';
export const ID_RULE = 'lowercase letters, digits, "-" and "_", starting with a letter or digit';

/** SECRET_KEYS: keys that must never carry a value in the file; see isSecretKey. */
export const SECRET_KEYS = ['token', 'password', 'secret', 'client_secret', 'api_key'] as const;

/** isSecretKey matches SECRET_KEYS ignoring case and separators (apiKey, API-KEY, clientSecret). */
export function isSecretKey(key: string): boolean {
  const squashed = key.toLowerCase().replace(/[-_\s]/g, '');
  return SECRET_KEYS.some((k) => k.replace(/_/g, '') === squashed);
}

/** IDENTITY_KEYS: platform identity keys on a member and channel keys on a team. */
export const IDENTITY_KEYS = ['discord', 'teams', 'console'] as const;

const ZONE = 'an IANA time zone such as "Europe/Berlin"';

function id(what: string, example: string): SchemaObject {
  return { type: 'string', pattern: ID_PATTERN, description: `${what} (${ID_RULE}), e.g. "${example}"` };
}

function ref(description: string, nullable = false): SchemaObject {
  return { type: nullable ? ['string', 'null'] : 'string', description };
}

const IDENTITY_DESCRIPTIONS: Record<(typeof IDENTITY_KEYS)[number], string> = {
  discord: 'a quoted Discord user id such as "812345678901234567"',
  teams: 'a quoted Microsoft Teams user id such as "29:1abc..." (team membership is set under teams[].members)',
  console: 'a quoted console name such as "alice"',
};

const CHANNEL_DESCRIPTIONS: Record<(typeof IDENTITY_KEYS)[number], string> = {
  discord: 'a quoted Discord channel id such as "123456789012345678"',
  teams: 'a quoted Microsoft Teams channel id such as "19:abc@thread.tacv2"',
  console: 'a quoted console channel name such as "#payments"',
};

function platformMap(descriptions: Record<string, string>): Record<string, SchemaObject> {
  const props: Record<string, SchemaObject> = {};
  for (const [key, description] of Object.entries(descriptions)) {
    props[key] = { type: ['string', 'null'], description };
  }
  return props;
}

const memberSchema: SchemaObject = {
  type: 'object',
  description: 'a member: a mapping with id, name, time_zone and optional mentor and platform identities',
  additionalProperties: false,
  required: ['id', 'time_zone'],
  properties: {
    id: id('a member id', 'alice'),
    name: { type: ['string', 'null'], description: 'a display name such as "Alice Liddell"' },
    time_zone: { type: 'string', description: ZONE },
    mentor: ref('a member id such as "bob" (the mentor is paged after the on-call)', true),
    ...platformMap(IDENTITY_DESCRIPTIONS),
  },
};

/** POLICY_NAME: how a policy is named in config (built-in or a plugin's). */
const POLICY_NAME = (kind: 'rotation' | 'escalation', builtIns: string): SchemaObject => ({
  type: ['string', 'null'],
  pattern: ID_PATTERN,
  description: `a ${kind} policy name: ${builtIns}, or one an enabled plugin contributes (${ID_RULE})`,
});

const restrictionSchema: SchemaObject = {
  type: 'object',
  description: 'a window such as { days: [Mon, Tue], from: "18:00", to: "09:00" } or { from: "Sat 09:00", to: "Mon 09:00" }',
  additionalProperties: false,
  required: ['from', 'to'],
  properties: {
    days: {
      type: ['array', 'null'],
      items: { type: 'string', description: 'a weekday such as Mon' },
      description: 'a list of weekdays on which the window starts, e.g. [Mon, Tue, Wed, Thu, Fri]',
    },
    from: { type: 'string', description: 'a time such as "18:00", or a weekday and time such as "Sat 09:00"' },
    to: { type: 'string', description: 'a time such as "09:00", or a weekday and time such as "Mon 09:00"' },
  },
};

const layerSchema: SchemaObject = {
  type: 'object',
  description: 'a layer: a mapping with name, members, shift, handoff, start and optional restrictions and shadow',
  additionalProperties: false,
  required: ['name', 'members', 'handoff', 'start'],
  properties: {
    name: { type: 'string', pattern: ID_PATTERN, description: `a layer name (${ID_RULE}), e.g. "weeknights"` },
    members: {
      type: 'array',
      items: ref('a member id such as "alice"'),
      description: 'a list of member ids in rotation order, e.g. [alice, bob]',
    },
    shift: { type: ['string', 'null'], description: 'a shift length in one unit: hours, days or weeks, e.g. "12h", "1d" or "1w"' },
    handoff: { type: 'string', description: 'a weekday and time such as "Mon 09:00", or a time such as "09:00"' },
    start: { type: 'string', description: 'an ISO date such as 2026-01-05' },
    restrictions: {
      type: ['array', 'null'],
      items: restrictionSchema,
      description: 'a list of windows in which the layer covers (in the team\'s time zone)',
    },
    shadow: { type: ['boolean', 'null'], description: 'true for a shadow layer (told about each page, never paged), or false' },
  },
};

const rotationSchema: SchemaObject = {
  type: 'object',
  description: 'a mapping with handoff (e.g. "Mon 09:00"), start (e.g. 2026-01-05) and optional members and shift; or layers',
  additionalProperties: false,
  // handoff and start are required for the single rotation only; validate.ts says so (with layers
  // or a plugin's policy they do not belong here).
  properties: {
    policy: POLICY_NAME('rotation', '"single" (one rotation) or "layered" (implied by layers)'),
    layers: {
      type: ['array', 'null'],
      items: layerSchema,
      description: 'a list of layers in priority order (the first listed that has someone wins)',
    },
    settings: { description: 'the settings of a plugin\'s rotation policy (checked by that policy)' },
    members: {
      type: ['array', 'null'],
      items: ref('a member id such as "alice"'),
      description: 'a list of member ids in rotation order, e.g. [alice, bob]',
    },
    shift: {
      type: ['string', 'null'],
      description: 'a shift length in one unit: hours, days or weeks, e.g. "12h", "1d" or "1w"',
    },
    handoff: { type: 'string', description: 'a weekday and time such as "Mon 09:00", or a time such as "09:00"' },
    start: { type: 'string', description: 'an ISO date such as 2026-01-05' },
  },
};

const escalationSchema: SchemaObject = {
  type: ['object', 'null'],
  description: 'an escalation policy: a mapping with ack_timeout, renotify, then, repeat, unowned_every and handoff',
  additionalProperties: false,
  properties: {
    policy: POLICY_NAME('escalation', '"default" (the plan these keys describe)'),
    settings: { description: 'the settings of a plugin\'s escalation policy (checked by that policy)' },
    ack_timeout: { type: ['string', 'null'], description: DURATION_HINT },
    renotify: {
      type: ['integer', 'null'],
      minimum: 0,
      maximum: 10,
      description: 'a whole number from 0 to 10 (how often the on-call is paged again)',
    },
    then: {
      type: ['array', 'null'],
      items: { type: 'string', enum: ['mentor', 'lead'], description: 'an escalation step: "mentor" or "lead"' },
      description: 'a list of escalation steps such as [mentor, lead]',
    },
    repeat: {
      type: ['integer', 'null'],
      minimum: 0,
      maximum: 10,
      description: 'a whole number from 0 to 10 (how often the whole chain runs again before the unowned alert)',
    },
    unowned_every: { type: ['string', 'null'], description: DURATION_HINT },
    handoff: {
      type: ['string', 'null'],
      enum: ['reassign', 'keep', null],
      description: '"reassign" (unacknowledged incidents move to the incoming on-call) or "keep"',
    },
  },
};

const teamSchema: SchemaObject = {
  type: 'object',
  description: 'a team: a mapping with id, name, time_zone, lead, members and rotation',
  additionalProperties: false,
  required: ['id', 'time_zone', 'lead', 'members', 'rotation'],
  properties: {
    id: id('a team id', 'payments'),
    name: { type: ['string', 'null'], description: 'a display name such as "Payments"' },
    time_zone: { type: 'string', description: `${ZONE} (the rotation's handoff is read in it)` },
    lead: ref('the member id of the team lead, e.g. "carol"'),
    members: {
      type: 'array',
      items: ref('a member id such as "alice"'),
      description: 'a list of member ids such as [alice, bob]',
    },
    channels: {
      type: ['object', 'null'],
      description: 'a mapping of platform to channel id, e.g. { console: "#payments" }',
      additionalProperties: false,
      properties: platformMap(CHANNEL_DESCRIPTIONS),
    },
    rotation: rotationSchema,
    escalation: escalationSchema,
  },
};

/** INTEGRATION_TYPES: the webhook formats `POST /webhooks/ID` understands. */
export const INTEGRATION_TYPES = ['alertmanager', 'grafana', 'generic'] as const;

const integrationSchema: SchemaObject = {
  type: 'object',
  description: 'an integration: a mapping with id, type, team and token_env (or hmac_secret_env for generic)',
  additionalProperties: false,
  required: ['id', 'type', 'team'],
  properties: {
    id: id('an integration id, used in the URL /webhooks/ID', 'alertmanager'),
    type: { type: 'string', enum: [...INTEGRATION_TYPES], description: 'an integration type: "alertmanager", "grafana" or "generic"' },
    team: ref('the team id the alerts page, e.g. "payments"'),
    name: { type: ['string', 'null'], description: 'a display name such as "Prometheus (prod)"' },
    token_env: ref('the name of an environment variable holding the bearer token, e.g. ONEHAND_AM_TOKEN', true),
    hmac_secret_env: ref('the name of an environment variable holding the HMAC secret, e.g. ONEHAND_HOOK_SECRET', true),
    token_file: ref('the path of a file holding the bearer token, e.g. /run/secrets/onehand_am_token', true),
    hmac_secret_file: ref('the path of a file holding the HMAC secret, e.g. /run/secrets/onehand_hook_secret', true),
    severity: {
      type: ['object', 'null'],
      description: 'a mapping such as { label: severity, map: { critical: sev1, warning: sev3 }, default: sev3 }',
      additionalProperties: false,
      properties: {
        label: { type: ['string', 'null'], minLength: 1, description: 'the alert label that carries the severity, e.g. severity' },
        map: {
          type: ['object', 'null'],
          description: 'a mapping of label value to severity, e.g. { critical: sev1, warning: sev3 }',
          additionalProperties: { type: 'string', enum: ['sev1', 'sev2', 'sev3', 'sev4'], description: 'a severity: sev1, sev2, sev3 or sev4' },
        },
        default: { type: ['string', 'null'], enum: ['sev1', 'sev2', 'sev3', 'sev4', null], description: 'a severity: sev1, sev2, sev3 or sev4' },
      },
    },
    fingerprint_labels: {
      type: ['array', 'null'],
      items: { type: 'string', minLength: 1, description: 'a label name such as alertname' },
      description: 'a list of label names whose values identify one problem, e.g. [alertname, service]',
    },
    resolve: { type: ['string', 'null'], enum: ['all', 'any', null], description: '"all" (an incident resolves when all its alerts are resolved) or "any"' },
    reopen_window: { type: ['string', 'null'], description: DURATION_HINT },
    flap_window: { type: ['string', 'boolean', 'null'], description: `${DURATION_HINT}, or off` },
    max_body: { type: ['string', 'integer', 'null'], description: 'a size such as "1MiB", "512KiB" or a number of bytes' },
    rate_limit: {
      type: ['object', 'null'],
      description: 'a mapping such as { requests: 600, per: 1m } (the default)',
      additionalProperties: false,
      properties: {
        requests: { type: ['integer', 'null'], minimum: 1, description: 'a whole number of requests, at least 1' },
        per: { type: ['string', 'null'], description: DURATION_HINT },
      },
    },
    storm: {
      type: ['object', 'null'],
      description: 'a mapping such as { threshold: 10, window: 5m }',
      additionalProperties: false,
      properties: {
        threshold: { type: ['integer', 'null'], minimum: 1, description: 'a whole number of new incidents, at least 1' },
        window: { type: ['string', 'null'], description: DURATION_HINT },
      },
    },
  },
};

/** configSchema is the whole file. Ajv runs it with allErrors, so every structural problem is listed. */
export const configSchema: SchemaObject = {
  type: 'object',
  description: 'a mapping with at least "members" and "teams"',
  additionalProperties: false,
  required: ['members', 'teams'],
  properties: {
    admins: {
      type: ['array', 'null'],
      items: ref('a member id such as "carol"'),
      description: 'a list of member ids such as [carol]',
    },
    default_team: ref('a team id such as "payments"', true),
    timers: {
      type: ['object', 'null'],
      description: 'a mapping such as { period: 1s, lease: 60s }',
      additionalProperties: false,
      properties: {
        period: { type: ['string', 'null'], description: DURATION_HINT },
        lease: { type: ['string', 'null'], description: DURATION_HINT },
      },
    },
    delivery: {
      type: ['object', 'null'],
      description: 'a mapping such as { timeout: 10s, concurrency: 8, fallback_after: 3 }',
      additionalProperties: false,
      properties: {
        timeout: { type: ['string', 'null'], description: DURATION_HINT },
        concurrency: { type: ['integer', 'null'], minimum: 1, maximum: 64, description: 'a whole number of platform calls at once, from 1 to 64' },
        fallback_after: { type: ['integer', 'null'], minimum: 1, maximum: 20, description: 'a whole number of failed attempts, from 1 to 20' },
      },
    },
    http: {
      type: ['object', 'null'],
      description: 'a mapping such as { port: 8080, host: 127.0.0.1 }',
      additionalProperties: false,
      properties: {
        port: {
          type: ['integer', 'null'],
          minimum: 1,
          maximum: 65535,
          description: 'a TCP port from 1 to 65535 (or nothing, for no HTTP server)',
        },
        host: { type: ['string', 'null'], minLength: 1, description: 'a host name or address such as 127.0.0.1' },
      },
    },
    members: {
      type: 'array',
      minItems: 1,
      items: memberSchema,
      description: 'a list of members, each with id, name and time_zone',
    },
    teams: {
      type: 'array',
      minItems: 1,
      items: teamSchema,
      description: 'a list of teams, each with id, time_zone, lead, members and rotation',
    },
    discord: {
      type: ['object', 'null'],
      description: 'a mapping such as { application_id: "123...", guild_id: "456..." }',
      additionalProperties: false,
      properties: {
        application_id: ref('a quoted Discord application id such as "123456789012345678"', true),
        guild_id: ref('a quoted Discord server (guild) id such as "123456789012345678"', true),
        public_key: ref('the application\'s public key (hex) from the Developer Portal, for HTTP interactions', true),
        api_base: ref('a base URL such as "https://discord.com/api" (tests point it at a loopback fake)', true),
        token_env: ref('the name of the environment variable holding the bot token, default DISCORD_TOKEN', true),
        token_file: ref('the path of a file holding the bot token (instead of token_env), e.g. /run/secrets/discord_token', true),
      },
    },
    microsoft_teams: {
      type: ['object', 'null'],
      description: 'a mapping such as { tenant_id: "72f988bf-...", service_url: "https://smba.trafficmanager.net/emea/" }',
      additionalProperties: false,
      properties: {
        tenant_id: ref('your Microsoft Entra directory (tenant) id, a GUID such as "72f988bf-86f1-41af-91ab-2d7cd011db47"', true),
        service_url: ref('the Bot Connector URL of your region, e.g. "https://smba.trafficmanager.net/emea/" (the serviceUrl of any activity Teams sends)', true),
      },
    },
    integrations: {
      type: ['array', 'null'],
      items: integrationSchema,
      description: 'a list of integrations (monitoring webhooks), each with id, type, team and a secret from the environment',
    },
    insights: {
      type: ['object', 'null'],
      description: 'a mapping such as { huddle_warning: 5, night: "22:00-07:00" }',
      additionalProperties: false,
      properties: {
        huddle_warning: { type: ['number', 'null'], minimum: 0, description: 'huddles per 100 incidents above which `oncall stats` warns, e.g. 5' },
        night: { type: ['string', 'null'], description: 'the night in each member\'s zone, for sleep interruptions, e.g. "22:00-07:00"' },
      },
    },
    plugins: {
      type: ['object', 'null'],
      description: 'a mapping of plugin name to its settings, e.g. { quiet-hours: {...} }',
    },
  },
};
