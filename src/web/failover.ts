/**
 * Which replica to try next when the current one cannot be reached. Pure: the SignalingClient
 * keeps the state (current URL, consecutive failures, the last replica list from `join`) and
 * asks these functions what to do.
 */

/** Consecutive failed connects to one URL before moving to another replica. */
export const FAILURES_BEFORE_ROTATING = 2;

/**
 * After a socket to the current URL closed before it opened (`failures` counts it): time to move on?
 * When the socket in use had been cut (`dropped`: closed without a close frame, the replica may be dead),
 * the first refusal is enough: a replica killed mid-call costs its pages one refused connection.
 */
export function shouldRotate(failures: number, dropped = false): boolean {
  return failures >= (dropped ? 1 : FAILURES_BEFORE_ROTATING);
}

/**
 * Where to go when `failed` is no good: `preferred` (what `/rooms/<id>/connect` answered) unless it
 * is the failed one, else the replica after `failed` in `replicas` (wrapping around, skipping it),
 * else null (nowhere else to go: retry the same URL).
 */
export function rotationTarget(replicas: readonly string[], failed: string, preferred: string | null = null): string | null {
  if (preferred && !sameReplica(preferred, failed)) return preferred;
  return nextReplicaUrl(replicas, failed);
}

/** The entry after `current` in `replicas`, wrapping around and skipping `current`; the first one when `current` is not listed. */
export function nextReplicaUrl(replicas: readonly string[], current: string): string | null {
  const at = replicas.findIndex((url) => sameReplica(url, current));
  for (let i = 1; i <= replicas.length; i++) {
    const candidate = replicas[(at + i) % replicas.length] as string;
    if (!sameReplica(candidate, current)) return candidate;
  }
  return null;
}

/** `ws://h:1/ws`, `http://h:1/` and `http://h:1` name the same replica. */
export function sameReplica(a: string, b: string): boolean {
  return toBaseUrl(a) === toBaseUrl(b);
}

/** The http(s) base URL of a replica from its base URL or its socket URL: `ws://h:1/ws` -> `http://h:1`. */
export function toBaseUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  if (parsed.protocol === 'ws:') parsed.protocol = 'http:';
  else if (parsed.protocol === 'wss:') parsed.protocol = 'https:';
  const path = parsed.pathname.replace(/\/ws$/, '').replace(/\/+$/, '');
  return `${parsed.origin}${path}`;
}

/** Known replica URLs from a `join` response's `replicas`, ignoring anything malformed. */
export function replicaUrls(replicas: unknown): string[] {
  if (!Array.isArray(replicas)) return [];
  const urls: string[] = [];
  for (const r of replicas as Array<{ url?: unknown } | null>) {
    const url = r?.url;
    if (typeof url === 'string' && /^https?:\/\//.test(url) && !urls.some((u) => sameReplica(u, url))) urls.push(url);
  }
  return urls;
}
