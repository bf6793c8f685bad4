/**
 * One serving process per SQLite file (src/store/sqlite/instance-lock.ts): a second bot on the same
 * file would take the first one's claims for a dead process's and send the same pages again. Real
 * processes, real files.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { acquireInstanceLock, DatabaseInUse } from '../../src/store/sqlite/instance-lock';
import { TEST_CONFIG } from '../harness/fixtures';
import { ROOT, tempDir, writeFile } from '../cli/run-cli';

const BIN = path.join(ROOT, 'bin', 'onehand.js');

function sleeper(): ChildProcess {
  return spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

describe('one bot per SQLite file: the instance lock', () => {
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const c of children.splice(0)) {
      c.kill('SIGKILL');
      await exited(c);
    }
  });

  it('is taken when free, names this process, and is gone once released', async () => {
    const file = path.join(tempDir(), 'o.db');
    const lock = await acquireInstanceLock(file);
    expect(JSON.parse(fs.readFileSync(`${file}.lock`, 'utf8'))).toMatchObject({ pid: process.pid, host: os.hostname() });
    lock.release();
    expect(fs.existsSync(`${file}.lock`)).toBe(false);
  });

  it('a live process of this host holding it, not stopping: refused at once, naming the holder and the fix', async () => {
    const file = path.join(tempDir(), 'o.db');
    const holder = sleeper();
    children.push(holder);
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: holder.pid, host: os.hostname(), since: '2026-12-03T07:00:00.000Z' }));
    const started = Date.now();
    const refused = await acquireInstanceLock(file).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DatabaseInUse);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((refused as Error).message).toBe(`another Onehand process serves ${file} (pid ${holder.pid} on ${os.hostname()}, serving it since 2026-12-03T07:00:00.000Z): stop it first, or give this one its own file (ONEHAND_DATA). Two bots on one SQLite file would send the same pages twice; several replicas need PostgreSQL (ONEHAND_DATABASE_URL)`);
  });

  it('a holder that is stopping is waited for; a holder that died (kill -9) is taken over', async () => {
    const file = path.join(tempDir(), 'o.db');
    const holder = sleeper();
    children.push(holder);
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: holder.pid, host: os.hostname(), since: 'x', stopping: true }));
    let taken = false;
    const waiting = acquireInstanceLock(file).then((lock) => {
      taken = true;
      return lock;
    });
    await new Promise((r) => setTimeout(r, 600));
    expect(taken).toBe(false);
    holder.kill('SIGKILL');
    await exited(holder);
    const lock = await waiting;
    expect(JSON.parse(fs.readFileSync(`${file}.lock`, 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('another host\'s lock (a shared volume) is waited for while it is touched, and taken over once it is stale; this process\'s own is taken over at once', async () => {
    const file = path.join(tempDir(), 'o.db');
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: 1, host: 'another-host', since: 'x' }));
    const started = Date.now();
    const lock = await acquireInstanceLock(file, { staleMs: 700 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    lock.release();
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: os.hostname(), since: 'x', started: Math.round(performance.timeOrigin) }));
    const own = Date.now();
    (await acquireInstanceLock(file)).release();
    expect(Date.now() - own).toBeLessThan(500);
  });

  it('this pid in an earlier life (pid 1 of a restarted container, or another container of the same host name) is waited for until stale; a live pid whose lock nobody touches (the pid reused after a reboot) is taken over', async () => {
    const file = path.join(tempDir(), 'o.db');
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: process.pid, host: os.hostname(), since: 'x', started: 1 }));
    const started = Date.now();
    (await acquireInstanceLock(file, { staleMs: 700 })).release();
    expect(Date.now() - started).toBeGreaterThanOrEqual(650);
    const other = sleeper();
    children.push(other);
    fs.writeFileSync(`${file}.lock`, JSON.stringify({ pid: other.pid, host: os.hostname(), since: 'x' }));
    const hourAgo = new Date(Date.now() - 3_600_000);
    fs.utimesSync(`${file}.lock`, hourAgo, hourAgo);
    (await acquireInstanceLock(file)).release();
  });

  it('four bots started at once on a file whose holder died: exactly one serves it, the others exit 1 naming it', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const data = path.join(dir, 'x.db');
    const dead = sleeper();
    dead.kill('SIGKILL');
    await exited(dead);
    fs.writeFileSync(`${data}.lock`, JSON.stringify({ pid: dead.pid, host: os.hostname(), since: 'x' }));
    const env = { ...process.env, ONEHAND_CONFIG: '', ONEHAND_DATA: data, ONEHAND_HTTP_PORT: '0' };
    const outcomes = await Promise.all(Array.from({ length: 4 }, () => new Promise<string>((resolve) => {
      const child = spawn(process.execPath, [BIN, 'start', '--config', config, '--no-console'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let err = '';
      child.stderr?.on('data', (d: Buffer) => {
        err += d.toString();
        if (err.includes('"http":"')) resolve('serves');
      });
      child.once('exit', (code) => resolve(code === 1 && err.includes('another Onehand process serves') ? 'refused' : `exit ${code}: ${err}`));
    })));
    expect(outcomes.sort()).toEqual(['refused', 'refused', 'refused', 'serves']);
  });

  it('onehand start on a file another bot serves exits 1 with that error (no stack trace); after that bot is killed, a start takes the file at once', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const env = { ...process.env, ONEHAND_CONFIG: '', ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_HTTP_PORT: '0' };
    const start = (): { child: ChildProcess; stderr: () => string; ready: Promise<void> } => {
      const child = spawn(process.execPath, [BIN, 'start', '--config', config, '--no-console'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(child);
      let err = '';
      const ready = new Promise<void>((resolve, reject) => {
        child.stderr?.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('"http":"')) resolve();
        });
        child.once('exit', () => reject(new Error(`exited: ${err}`)));
      });
      ready.catch(() => undefined);
      return { child, stderr: () => err, ready };
    };
    const first = start();
    await first.ready;
    const second = start();
    const code = await new Promise<number | null>((resolve) => second.child.once('exit', (c) => resolve(c)));
    expect(code).toBe(1);
    expect(second.stderr()).toContain(`onehand: another Onehand process serves ${path.join(dir, 'x.db')} (pid ${first.child.pid} on `);
    expect(second.stderr()).not.toMatch(/\n\s+at /);
    first.child.kill('SIGKILL');
    await exited(first.child);
    const third = start();
    await third.ready;
  });
});
