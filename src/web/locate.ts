/**
 * Asking the cluster which replica should host us: `GET <base>/rooms/<roomId>/connect` answers
 * `{ url, replicaId }` (the least-loaded healthy replica) or 503. Any failure (old server, 503,
 * network, timeout) yields null, and the caller falls back to the URL it has or to rotation.
 */

import { sameReplica } from './failover.js';

export type LocateOptions = {
  /** Per-request timeout. */
  timeoutMs?: number;
  /** fetch implementation; tests pass a fake. */
  fetchImpl?: typeof fetch;
};

/** Asks every base URL in `bases` (except `exclude`) at once; the first usable answer wins. */
export async function locateReplica(bases: readonly string[], roomId: string, exclude: string | null = null, options: LocateOptions = {}): Promise<string | null> {
  const asked = bases.filter((base, i) => (!exclude || !sameReplica(base, exclude)) && bases.findIndex((b) => sameReplica(b, base)) === i);
  if (asked.length === 0) return null;
  try {
    return await Promise.any(
      asked.map(async (base) => {
        const url = await askConnect(base, roomId, options);
        if (!url || (exclude && sameReplica(url, exclude))) throw new Error('no usable answer');
        return url;
      }),
    );
  } catch {
    return null;
  }
}

/** One `GET <base>/rooms/<roomId>/connect`: the replica's base URL, or null. */
export async function askConnect(base: string, roomId: string, options: LocateOptions = {}): Promise<string | null> {
  const fetchImpl = options.fetchImpl ?? fetch;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 2_000);
  try {
    const target = new URL(`rooms/${encodeURIComponent(roomId)}/connect`, base.endsWith('/') ? base : `${base}/`);
    const res = await fetchImpl(target, { signal: controller.signal, headers: { accept: 'application/json' } });
    if (!res.ok) return null;
    const body = (await res.json()) as { url?: unknown };
    return typeof body.url === 'string' && /^https?:\/\//.test(body.url) ? body.url : null;
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}
