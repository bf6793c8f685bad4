/**
 * The optional HTTP interactions endpoint, POST /discord/interactions on Onehand's HTTP server.
 * Discord signs each request with the application's Ed25519 key; the signature over
 * timestamp + raw body is verified with node:crypto before anything is parsed. A bad or missing
 * signature gets 401 (Discord checks this when the endpoint URL is saved). PING is answered with
 * PONG; commands, buttons and autocomplete are handled as over the gateway, answered in the HTTP
 * response.
 */
import * as crypto from 'node:crypto';
import type { HttpServer } from '../../src/http/server';
import type { Logger } from '../../src/ports/logger';
import type { InteractionResponse, RawInteraction, Responder } from './adapter';

export const INTERACTIONS_PATH = '/discord/interactions';

/** The DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32-byte key follows it. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** publicKeyFromHex: the application's public key (64 hex characters, from the Developer Portal). */
export function publicKeyFromHex(hex: string): crypto.KeyObject {
  const clean = hex.trim();
  if (!/^[0-9a-f]{64}$/i.test(clean)) throw new Error('the Discord public key must be 64 hexadecimal characters (General Information > Public Key)');
  return crypto.createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(clean, 'hex')]), format: 'der', type: 'spki' });
}

/** verifySignature: true only for a well-formed signature by `key` over timestamp + body. */
export function verifySignature(key: crypto.KeyObject, signature: string | undefined, timestamp: string | undefined, body: Buffer): boolean {
  if (!signature || !timestamp || !/^[0-9a-f]{128}$/i.test(signature)) return false;
  try {
    return crypto.verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signature, 'hex'));
  } catch {
    return false;
  }
}

/** InteractionHandler: the adapter's shared entry point (DiscordAdapter.handleInteraction). */
export interface InteractionHandler {
  handleInteraction(raw: RawInteraction, respond: Responder): Promise<void>;
}

/**
 * registerInteractionsEndpoint adds the route. The handler answers in the HTTP response as soon as
 * the interaction is answered (or deferred); later work (a deferred reply) goes on over REST.
 */
export function registerInteractionsEndpoint(http: HttpServer, publicKeyHex: string, handler: InteractionHandler, log: Logger): void {
  const key = publicKeyFromHex(publicKeyHex);
  http.route('POST', INTERACTIONS_PATH, async (req) => {
    const signature = header(req.headers['x-signature-ed25519']);
    const timestamp = header(req.headers['x-signature-timestamp']);
    if (!verifySignature(key, signature, timestamp, req.body)) return { status: 401, body: { error: 'invalid request signature' } };
    let raw: RawInteraction;
    try {
      raw = JSON.parse(req.body.toString('utf8')) as RawInteraction;
    } catch {
      return { status: 400, body: { error: 'the body is not JSON' } };
    }
    let answer: (r: InteractionResponse) => void = () => undefined;
    const answered = new Promise<InteractionResponse>((resolve) => {
      answer = resolve;
    });
    const work = handler.handleInteraction(raw, async (response) => answer(response));
    const first = await Promise.race([answered, work.then(() => null)]);
    const response = first ?? (await Promise.race([answered, Promise.resolve(null)]));
    // Whatever runs after the answer (a deferred reply) is logged if it fails.
    work.catch((err: unknown) => log.error('discord interaction failed', { interaction: raw.id, error: err instanceof Error ? err.message : String(err) }));
    if (!response) return { status: 500, body: { error: 'the interaction was not answered' } };
    return { status: 200, body: response };
  });
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
