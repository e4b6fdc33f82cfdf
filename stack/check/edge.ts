/**
 * Rules for what the gateways of a stack file share with the services around
 * them: coturn (TURN URLs and the shared secret), Prometheus (the /metrics
 * bearer token) and a proxy in front (http.trustProxy). Each returns readable
 * problems; an empty list means clean.
 */
import { parse } from 'yaml';
import { environment, interpolate, services, type StackFile } from './stackfile.js';

type Json = Record<string, unknown>;

const SECRET_DIR = '/run/secrets/';

/** Services running an image of `repo` (`parley/gateway`, `coturn/coturn`, `traefik`), by name. */
function withImage(stack: StackFile, repo: RegExp): Array<[string, Json]> {
  return [...services(stack)].filter(([, svc]) => repo.test(interpolate(String(svc.image ?? '')).replace(/:[^/:]+$/, '')));
}

export const gateways = (stack: StackFile) => withImage(stack, /^parley\/gateway$/);

const secretsOf = (svc: Json): string[] =>
  (Array.isArray(svc.secrets) ? svc.secrets : []).map((s) => (typeof s === 'string' ? s : String((s as Json).source)));

/** The secret a `PARLEY_<KEY>_FILE` variable reads, with a problem when the service does not mount it. */
function secretFile(name: string, svc: Json, variable: string, problems: string[]): string | null {
  const path = environment(svc).get(variable);
  if (path === undefined) return null;
  const secret = path.startsWith(SECRET_DIR) ? path.slice(SECRET_DIR.length) : '';
  if (!secret || !secretsOf(svc).includes(secret)) problems.push(`service ${name}: ${variable}=${path} is not one of its secrets (${SECRET_DIR}<name>)`);
  return secret || null;
}

/** `key=value` lines of a coturn config. */
function coturnSetting(conf: string, key: string): string | undefined {
  return new RegExp(`^${key}=(.*)$`, 'm').exec(conf)?.[1]?.trim();
}

/**
 * When the stack runs coturn, every gateway hands out its URLs (`turn:` on
 * coturn's listening-port, `turns:` on its tls-listening-port) and reads the
 * secret every coturn service mounts. `parseUrls` is the configuration
 * loader's reading of PARLEY_TURN_URLS (comma-separated or a JSON array), so
 * what the gateway would really hand out is what gets checked.
 */
export function checkTurn(stack: StackFile, turnserverConf: string, parseUrls: (raw: string) => string[]): string[] {
  const problems: string[] = [];
  const coturns = withImage(stack, /^coturn\/coturn$/);
  const ports = { turn: coturnSetting(turnserverConf, 'listening-port') ?? '3478', turns: coturnSetting(turnserverConf, 'tls-listening-port') ?? '5349' };
  for (const [name, svc] of gateways(stack)) {
    const raw = environment(svc).get('PARLEY_TURN_URLS');
    if (raw === undefined) {
      if (coturns.length > 0) problems.push(`service ${name}: the stack runs coturn but PARLEY_TURN_URLS is not set`);
      continue;
    }
    const urls = parseUrls(interpolate(raw));
    if (urls.length === 0) problems.push(`service ${name}: PARLEY_TURN_URLS lists no URL`);
    for (const url of urls) {
      const m = /^(turns?):[^\s:,"'[\]?]+:(\d+)(\?transport=(udp|tcp))?$/.exec(url);
      if (!m) problems.push(`service ${name}: "${url}" is not a TURN URL (turn:<host>:<port>[?transport=udp|tcp]; several are comma-separated)`);
      else if (coturns.length > 0 && m[2] !== ports[m[1] as 'turn' | 'turns']) problems.push(`service ${name}: ${url} is not on coturn's ${m[1]} port ${ports[m[1] as 'turn' | 'turns']}`);
    }
    const secret = secretFile(name, svc, 'PARLEY_TURN_SECRET_FILE', problems);
    if (secret === null) {
      if (!environment(svc).has('PARLEY_TURN_SECRET_FILE')) problems.push(`service ${name}: has TURN URLs but no PARLEY_TURN_SECRET_FILE (the secret coturn shares)`);
      continue;
    }
    for (const [turnName, turn] of coturns) {
      if (!secretsOf(turn).includes(secret)) problems.push(`service ${turnName}: does not mount ${secret}, the TURN secret of ${name}`);
    }
  }
  return problems;
}

/**
 * Gateways with a /metrics token (auth.metricsToken) are scraped with it: the
 * Prometheus job `job` sends `authorization.credentials_file` naming the same
 * secret, and the Prometheus service mounts it.
 */
export function checkMetricsToken(stack: StackFile, prometheusConfig: string, job = 'parley-gateway'): string[] {
  const problems: string[] = [];
  const config = parse(prometheusConfig) as { scrape_configs?: Array<{ job_name: string; authorization?: { credentials_file?: string } }> };
  const scrape = (config.scrape_configs ?? []).find((c) => c.job_name === job);
  const sent = scrape?.authorization?.credentials_file;
  const prometheus = withImage(stack, /^prom\/prometheus$/);
  for (const [name, svc] of gateways(stack)) {
    const secret = secretFile(name, svc, 'PARLEY_AUTH_METRICS_TOKEN_FILE', problems);
    if (secret === null) continue;
    if (sent !== `${SECRET_DIR}${secret}`) problems.push(`prometheus job ${job}: authorization.credentials_file must be ${SECRET_DIR}${secret} (the metrics token of ${name}), is ${sent ?? 'unset'}`);
  }
  if (sent !== undefined) {
    const secret = sent.startsWith(SECRET_DIR) ? sent.slice(SECRET_DIR.length) : sent;
    for (const [name, svc] of prometheus) {
      if (!secretsOf(svc).includes(secret)) problems.push(`service ${name}: job ${job} reads ${sent}, but the service does not mount the secret ${secret}`);
    }
  }
  return problems;
}

/**
 * http.trustProxy is on exactly when a proxy (Traefik) fronts the gateways:
 * without it every client behind the proxy counts as the proxy's address for
 * the per-address limits; with it and no proxy, clients choose their address.
 */
export function checkTrustProxy(stack: StackFile): string[] {
  const proxied = withImage(stack, /^traefik$/).length > 0;
  const problems: string[] = [];
  for (const [name, svc] of gateways(stack)) {
    const trusted = ['true', '1'].includes(environment(svc).get('PARLEY_HTTP_TRUST_PROXY') ?? 'false');
    if (proxied && !trusted) problems.push(`service ${name}: behind Traefik without PARLEY_HTTP_TRUST_PROXY=true (every client would share Traefik's per-address limits)`);
    if (!proxied && trusted) problems.push(`service ${name}: PARLEY_HTTP_TRUST_PROXY=true with no proxy in front (clients could forge X-Forwarded-For)`);
  }
  return problems;
}
