#!/usr/bin/env node
// The container's HEALTHCHECK: GET /healthz on the port and host `onehand start` listens on
// (ONEHAND_HTTP_PORT, default 8080; ONEHAND_HTTP_HOST, loopback when it is a wildcard address).
// Exit 0 when it answers 200, else 1. Plain Node (no dependencies), so it runs in the image as is.
const port = Number(process.env.ONEHAND_HTTP_PORT || 8080);
const configured = (process.env.ONEHAND_HTTP_HOST || '').trim();
const host = configured === '' || configured === '0.0.0.0' || configured === '::' ? '127.0.0.1' : configured;
const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}/healthz`;
fetch(url, { signal: AbortSignal.timeout(4000) })
  .then((res) => process.exit(res.status === 200 ? 0 : 1))
  .catch(() => process.exit(1));
