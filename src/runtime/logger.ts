import type { Logger } from '../ports/logger';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const SECRET_KEY = /token|password|secret|authorization|api_?key/i;

/**
 * JsonLogger writes one JSON object per line to a stream (stderr by default). Fields whose names look
 * like secrets are replaced by "[redacted]" as a last line of defence; callers should not pass them.
 */
export class JsonLogger implements Logger {
  constructor(
    private readonly minLevel: Level = 'info',
    private readonly write: (line: string) => void = (line) => process.stderr.write(line + '\n'),
  ) {}
  debug(msg: string, fields?: Record<string, unknown>): void { this.log('debug', msg, fields); }
  info(msg: string, fields?: Record<string, unknown>): void { this.log('info', msg, fields); }
  warn(msg: string, fields?: Record<string, unknown>): void { this.log('warn', msg, fields); }
  error(msg: string, fields?: Record<string, unknown>): void { this.log('error', msg, fields); }

  private log(level: Level, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[level] < ORDER[this.minLevel]) return;
    const safe: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fields ?? {})) safe[k] = SECRET_KEY.test(k) ? '[redacted]' : v instanceof Error ? v.message : v;
    this.write(JSON.stringify({ time: new Date().toISOString(), level, msg, ...safe }));
  }
}

/** MemoryLogger keeps entries for tests (e.g. to assert a plugin failure was logged). */
export class MemoryLogger implements Logger {
  readonly entries: Array<{ level: Level; msg: string; fields: Record<string, unknown> }> = [];
  debug(msg: string, fields: Record<string, unknown> = {}): void { this.entries.push({ level: 'debug', msg, fields }); }
  info(msg: string, fields: Record<string, unknown> = {}): void { this.entries.push({ level: 'info', msg, fields }); }
  warn(msg: string, fields: Record<string, unknown> = {}): void { this.entries.push({ level: 'warn', msg, fields }); }
  error(msg: string, fields: Record<string, unknown> = {}): void { this.entries.push({ level: 'error', msg, fields }); }
}
