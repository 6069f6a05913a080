// The one way to turn anything thrown into the text of a message.

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
