/**
 * Logger is responsible for structured operational logs. Fields are plain data; callers never pass
 * secrets (tokens, passwords), and implementations do not print stack traces to users.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
