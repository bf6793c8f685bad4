/**
 * Settings from the environment that cannot work are one line that names the variable and the
 * fix: never a system error on its own, never silently ignored, never a secret echoed back.
 */
import * as path from 'node:path';
import { TEST_CONFIG } from '../harness/fixtures';
import { runCli, tempDir, writeFile } from './run-cli';

describe('bad environment settings', () => {
  it('ONEHAND_DATA under a regular file names the setting and the fix', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const file = writeFile(dir, 'not-a-folder', 'x');
    const r = await runCli(['migrate', '--config', config], '', { ONEHAND_DATA: path.join(file, 'onehand.db') });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onehand: cannot open the SQLite database at .*not-a-folder\/onehand\.db \(ONEHAND_DATA\): .*; set ONEHAND_DATA to a file path in a writable folder\n$/);
  });

  it('ONEHAND_DATA in a folder that cannot be made (under /proc) fails with the reason instead of hanging', async () => {
    // Node's recursive mkdir never returns there (100% CPU): the start hung with no message.
    const config = writeFile(tempDir(), 'onehand.yaml', TEST_CONFIG);
    const r = await runCli(['migrate', '--config', config], '', { ONEHAND_DATA: '/proc/onehand-no-such/deeper/onehand.db' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onehand: cannot open the SQLite database at \/proc\/onehand-no-such\/deeper\/onehand\.db \(ONEHAND_DATA\): ENOENT.*; set ONEHAND_DATA to a file path in a writable folder\n$/);
  }, 20_000);

  it('a file that is not a database is told as it is, without sending the admin to an empty database elsewhere', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const file = writeFile(dir, 'onehand.db', 'this is not a database, but a text file long enough to hold a header');
    const r = await runCli(['migrate', '--config', config], '', { ONEHAND_DATA: file });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^onehand: cannot open the SQLite database at .*onehand\.db \(ONEHAND_DATA\): SQLITE_NOTADB: file is not a database/);
    expect(r.stderr).not.toContain('set ONEHAND_DATA');
  });

  it('ONEHAND_DATABASE_URL that is not PostgreSQL says so without echoing the value (it may hold a password)', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const notUrl = await runCli(['migrate', '--config', config], '', { ONEHAND_DATABASE_URL: 'hunter2' });
    expect(notUrl.code).toBe(1);
    expect(notUrl.stderr).toBe('onehand: ONEHAND_DATABASE_URL must be a postgres:// or postgresql:// URL (got a value that is not a URL), e.g. postgres://onehand:PASSWORD@db.example:5432/onehand; unset it to use the SQLite file\n');
    const mysql = await runCli(['migrate', '--config', config], '', { ONEHAND_DATABASE_URL: 'mysql://app:s3cret@db/app' });
    expect(mysql.stderr).toContain('(got a mysql:// URL)');
    expect(mysql.stderr).not.toContain('s3cret');
  });

  it('an unknown ONEHAND_LOG_LEVEL is refused with the levels there are', async () => {
    const dir = tempDir();
    const config = writeFile(dir, 'onehand.yaml', TEST_CONFIG);
    const r = await runCli(['start', '--config', config, '--no-console'], '', { ONEHAND_DATA: path.join(dir, 'x.db'), ONEHAND_LOG_LEVEL: 'verbose' });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('onehand: ONEHAND_LOG_LEVEL "verbose" is not a log level: use debug, info, warn or error\n');
  });
});
