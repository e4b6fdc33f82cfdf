import type { HttpResponse } from 'uWebSockets.js';

/** Marks a response aborted so late writes are skipped (uWS forbids touching an aborted response). */
export function guard(res: HttpResponse): { aborted: boolean } {
  const state = { aborted: false };
  res.onAborted(() => {
    state.aborted = true;
  });
  return state;
}

export function send(res: HttpResponse, state: { aborted: boolean }, status: number, contentType: string, body: string | Uint8Array, headers: Record<string, string> = {}): void {
  if (state.aborted) return;
  res.cork(() => {
    res.writeStatus(statusLine(status)).writeHeader('content-type', contentType).writeHeader('cache-control', 'no-store');
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    res.end(body);
  });
}

export function sendJson(res: HttpResponse, state: { aborted: boolean }, status: number, body: unknown, headers?: Record<string, string>): void {
  send(res, state, status, 'application/json', JSON.stringify(body), headers);
}

const REASONS: Record<number, string> = { 200: 'OK', 202: 'Accepted', 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable' };

function statusLine(status: number): string {
  return `${status} ${REASONS[status] ?? 'Status'}`;
}

/** Reads a request body up to `limit` bytes; rejects with 'too-large' past it. */
export function readBody(res: HttpResponse, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.onData((chunk, isLast) => {
      size += chunk.byteLength;
      if (size > limit) {
        reject(new Error('too-large'));
        return;
      }
      chunks.push(Buffer.from(chunk.slice(0)));
      if (isLast) resolve(Buffer.concat(chunks));
    });
  });
}
