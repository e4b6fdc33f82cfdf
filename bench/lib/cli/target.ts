/**
 * The options that aim a run at an existing deployment instead of gateways the bench starts:
 *
 *   --target <url>[,<url>...]  the gateways (one URL per replica the scenario should reach)
 *   --secret-file <file>       the deployment's auth.secret, to mint join tokens (or PARLEY_BENCH_SECRET)
 *   --issuer <name>            the tokens' issuer (auth.issuer; default parley)
 *   --token-url <url>          or: a token endpoint (POST {room, identity, name, role} -> {token})
 *   --metrics-token <t>        bearer token of the gateways' /metrics (or PARLEY_BENCH_METRICS_TOKEN)
 *   --stop-command <cmd>       failover: a shell command stopping one replica ({url}, {index} replaced)
 *   --max-clients <n>          at most this many clients at once against the deployment (default 50)
 *   --max-seconds <s>          and for at most this long per scenario (default 600)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RemoteTarget } from '../types.js';

export const TARGET_HELP = `Against a deployment (the client side runs here; join, capacity, pipeline, failover):
  --target <url>[,<url>]  the gateways to measure (one URL per replica); nothing is started here
  --secret-file <file>    the deployment's auth.secret, to mint join tokens (or PARLEY_BENCH_SECRET)
  --issuer <name>         the tokens' issuer, auth.issuer (default parley)
  --token-url <url>       or a token endpoint: POST {room, identity, name, role} -> {token}
  --metrics-token <t>     bearer token of the gateways' /metrics (or PARLEY_BENCH_METRICS_TOKEN);
                          engine-internal figures are read there when allowed
  --stop-command <cmd>    failover only: a shell command that stops the LAST --target replica;
                          {url}, {host} (its host name) and {index} (from 0) are replaced, e.g.
                          "ssh {host} sudo systemctl kill -s KILL parley" (not recorded in results)
  --max-clients <n>       at most n clients at once against the deployment (default 50)
  --max-seconds <s>       at most s seconds of traffic per scenario (default 600, at most 86400)
  Results of a --target run go to bench/results/target/<host>/ (git-ignored; its own latest/,
  index.html and history), never among the runs this repository commits.`;

const FLAGS = ['--target', '--secret-file', '--issuer', '--token-url', '--metrics-token', '--stop-command', '--max-clients', '--max-seconds'] as const;
type Flag = (typeof FLAGS)[number];

/** Takes the target options out of `argv`; returns the target (null without --target) and the rest. */
export function takeTarget(argv: string[], env: NodeJS.ProcessEnv = process.env): { target: RemoteTarget | null; rest: string[] } {
  const given = new Map<Flag, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    const flag = (eq > 0 ? a.slice(0, eq) : a) as Flag;
    if (!FLAGS.includes(flag)) {
      rest.push(a);
      continue;
    }
    const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || value === '') throw new TypeError(`${flag} needs a value`);
    given.set(flag, value);
  }
  const raw = given.get('--target');
  if (raw === undefined) {
    const stray = [...given.keys()];
    if (stray.length) throw new TypeError(`${stray.join(', ')} only make sense with --target`);
    return { target: null, rest };
  }
  const urls = raw.split(',').map((u) => u.trim()).filter(Boolean).map(checkUrl);
  const secret = given.has('--secret-file') ? readFileSync(given.get('--secret-file')!, 'utf8').trim() : env.PARLEY_BENCH_SECRET;
  const tokenUrl = given.get('--token-url');
  if (secret && tokenUrl) throw new TypeError('give either --secret-file (or PARLEY_BENCH_SECRET) or --token-url, not both');
  if (!secret && !tokenUrl) throw new TypeError('--target needs a way to mint join tokens: --secret-file <file> (the deployment\'s auth.secret, or PARLEY_BENCH_SECRET) or --token-url <url>');
  const target: RemoteTarget = {
    urls,
    tokens: tokenUrl ? { kind: 'endpoint', url: checkEndpoint(tokenUrl) } : { kind: 'secret', secret: secret!, issuer: given.get('--issuer') ?? 'parley' },
    metricsToken: given.get('--metrics-token') ?? env.PARLEY_BENCH_METRICS_TOKEN ?? null,
    stopCommand: given.get('--stop-command') ?? null,
    limits: { maxClients: positive(given.get('--max-clients'), 50, '--max-clients'), maxSeconds: Math.min(86_400, positive(given.get('--max-seconds'), 600, '--max-seconds')) },
  };
  return { target, rest };
}

function checkUrl(u: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new TypeError(`not a URL: "${u}" (expected http(s)://host:port)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`not an http(s) URL: "${u}"`);
  const clean = `${url.origin}${url.pathname.replace(/\/$/, '')}`;
  // {url} goes into the operator's stop command: nothing a shell would read as syntax.
  if (!/^[A-Za-z0-9.:/_~%[\]-]+$/.test(clean)) throw new TypeError(`unexpected characters in URL "${u}" (host, port and path only)`);
  return clean;
}

/** A token endpoint: any http(s) URL, query included (it is never put into a shell command). */
function checkEndpoint(u: string): string {
  let url: URL;
  try {
    url = new URL(u);
  } catch {
    throw new TypeError(`--token-url: not a URL: "${u}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`--token-url: not an http(s) URL: "${u}"`);
  return url.href;
}

/** Where a --target run's files go by default: a git-ignored folder per deployment (its host and port). */
export function targetResultsDir(results: string, target: RemoteTarget): string {
  const { host } = new URL(target.urls[0]!);
  return join(results, 'target', host.replace(/[^A-Za-z0-9.-]/g, '_'));
}

function positive(v: string | undefined, fallback: number, flag: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError(`${flag} needs a positive whole number, got "${v}"`);
  return n;
}
