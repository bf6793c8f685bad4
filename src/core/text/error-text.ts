/** errorText: an error's message (or the thrown value as text), for a log line or a reason. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
