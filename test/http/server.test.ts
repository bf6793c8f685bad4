/**
 * HttpServer's request targets over loopback (node:http client, so paths go out exactly as
 * written: fetch would normalize them first). A plain path skips URL parsing; every other target
 * is read as WHATWG URL reads it, so both kinds reach the same route with the same path.
 */
import * as http from 'node:http';
import { HttpServer } from '../../src/http/server';
import { MemoryLogger } from '../../src/runtime/logger';

let server: HttpServer;
let port: number;

function get(target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: target, method: 'GET' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

beforeAll(async () => {
  server = new HttpServer(new MemoryLogger());
  server.route('GET', '/echo/*', async (req) => ({ status: 200, body: { path: req.path, q: req.query.get('q') } }));
  port = await server.listen(0, '127.0.0.1');
});

afterAll(() => server.close());

test('plain paths and paths that need URL parsing reach the same route with the path URL gives', async () => {
  const cases: Array<[string, string, string | null]> = [
    ['/echo/prom', '/echo/prom', null],
    ['/echo/v1.2_x~y-z/', '/echo/v1.2_x~y-z/', null],
    ['/echo/./prom', '/echo/prom', null],
    ['/x/../echo/prom', '/echo/prom', null],
    ['/echo/.hidden', '/echo/.hidden', null],
    ['/echo/a%20b', '/echo/a%20b', null],
    ['/echo/prom?q=1', '/echo/prom', '1'],
  ];
  for (const [target, path, q] of cases) {
    const res = await get(target);
    expect([target, res.status, JSON.parse(res.body)]).toEqual([target, 200, { path, q }]);
    expect(new URL(target, 'http://localhost').pathname).toBe(path);
  }
  expect((await get('/echo/%E0%A4%A')).status).toBe(400);
  expect((await get('/nothing')).status).toBe(404);
});

test('a route registered after requests were served is found (the lookup memory is emptied)', async () => {
  expect((await get('/later')).status).toBe(404);
  server.route('GET', '/later', async () => ({ status: 200, body: { ok: true } }));
  expect(await get('/later')).toEqual({ status: 200, body: '{"ok":true}' });
});

test('while held (the app still starting) every request gets 503 with Retry-After, then the routes answer', async () => {
  const ready = server.holdUntilReady();
  const held = await get('/echo/prom');
  expect(held.status).toBe(503);
  expect(JSON.parse(held.body)).toEqual({ error: 'Onehand is starting; retry in a second' });
  ready();
  expect((await get('/echo/prom')).status).toBe(200);
});
