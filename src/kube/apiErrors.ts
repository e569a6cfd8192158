// What an API error was, from its HTTP status: client-node's ApiException
// carries it as `code`, the lean client's RestError (rest.ts) as both `code`
// and `statusCode`. Free of client-node, so the agent can import it.
export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: number; statusCode?: number };
  return typeof e?.code === 'number' ? e.code : e?.statusCode;
}

export const isNotFound = (err: unknown): boolean => statusCode(err) === 404;
export const isConflict = (err: unknown): boolean => statusCode(err) === 409;
