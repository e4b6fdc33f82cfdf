/**
 * The bench against a deployment it did not start (`--target`, a RemoteTarget in the run context):
 * join tokens minted with the deployment's secret or asked of its token endpoint, the bounds the
 * operator set on the traffic (clients at once, seconds of run), the operator's command that stops a
 * replica (failover), and the local address this machine reaches the deployment from.
 */
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { signJoinToken, tokenKey } from '../../src/auth/tokens.js';
import type { PeerRole } from '../../src/protocol/messages.js';
import { until } from './stack.js';
import type { RemoteTarget, RunContext } from './types.js';

/** The codes a remote run fails with; each message says what to change. */
export const TargetErrors = {
  /** The token endpoint did not answer `{ token }` (unreachable, an HTTP error, another body). */
  TOKEN_ENDPOINT: 'ERR_BENCH_TOKEN_ENDPOINT',
  /** The scenario needs more clients at once than --max-clients allows. */
  OVER_LIMIT: 'ERR_BENCH_TARGET_LIMIT',
  /** The scenario cannot run against this target as given (e.g. failover with one URL or no --stop-command). */
  UNSUPPORTED: 'ERR_BENCH_TARGET_UNSUPPORTED',
  /** The stop command exited with an error or did not finish in time. */
  STOP_COMMAND: 'ERR_BENCH_STOP_COMMAND',
} as const;

export type TargetErrorCode = (typeof TargetErrors)[keyof typeof TargetErrors];

export class TargetError extends Error {
  readonly code: TargetErrorCode;

  constructor(code: TargetErrorCode, message: string) {
    super(`${code}: ${message}`);
    this.name = 'TargetError';
    this.code = code;
  }
}

/** The target of a run that requires one (a scenario's remote branch). */
export function targetOf(ctx: RunContext): RemoteTarget {
  if (!ctx.target) throw new TypeError('this run has no --target');
  return ctx.target;
}

export type TokenRequest = { room: string; identity: string; name?: string; role?: PeerRole };

const ENDPOINT_TIMEOUT_MS = 10_000;

/**
 * A join token for `identity` in `room`: signed with the deployment's auth.secret and issuer (as the
 * gateway's own tokens are, HS256), or from the token endpoint: POST `{ room, identity, name, role }`,
 * answer `{ token }`. Valid for the run's time limit plus ten minutes (at least 10 minutes).
 */
export async function mintToken(target: RemoteTarget, req: TokenRequest): Promise<string> {
  const name = req.name ?? req.identity;
  const role = req.role ?? 'speaker';
  if (target.tokens.kind === 'secret') {
    const ttlSeconds = Math.max(600, Math.ceil(target.limits.maxSeconds) + 600);
    const { token } = await signJoinToken(tokenKey(target.tokens.secret, target.tokens.issuer), { roomId: req.room, identity: req.identity, displayName: name, role, ttlSeconds });
    return token;
  }
  const url = target.tokens.url;
  const fail = (why: string) => new TargetError(TargetErrors.TOKEN_ENDPOINT, `the token endpoint ${url} ${why} (expected HTTP 200 with {"token": "..."} for POST {room, identity, name, role})`);
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ room: req.room, identity: req.identity, name, role }), signal: AbortSignal.timeout(ENDPOINT_TIMEOUT_MS) });
  } catch (err) {
    throw fail(`could not be reached: ${err instanceof Error ? err.message : String(err)}`);
  }
  const text = await res.text().catch(() => '');
  if (!res.ok) throw fail(`answered HTTP ${res.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw fail(`answered something that is not JSON: ${text.slice(0, 200)}`);
  }
  const token = (body as { token?: unknown } | null)?.token;
  if (typeof token !== 'string' || token.length === 0) throw fail(`answered JSON without a "token" string: ${text.slice(0, 200)}`);
  return token;
}

/**
 * The operator's bounds on what a remote run sends (RemoteTarget.limits): clients at once are clamped
 * (or the run refused when even the smallest useful load does not fit), and the run's clock is kept
 * so loops stop measuring at the time limit; `scope` adds a hard stop shortly after it. What was
 * clamped or cut is in `notes`, for the report.
 */
export class TargetBudget {
  readonly target: RemoteTarget;
  readonly notes: string[] = [];
  readonly #deadline: number;
  #timeNoted = false;

  constructor(target: RemoteTarget, startedAt = Date.now()) {
    this.target = target;
    this.#deadline = startedAt + target.limits.maxSeconds * 1000;
  }

  /**
   * How many clients (peers, pages) to hold at once: `wanted` when it fits under --max-clients, else the
   * limit (noted); refused with ERR_BENCH_TARGET_LIMIT when fewer than `minimum` fit.
   */
  clients(wanted: number, what: string, minimum = wanted): number {
    const max = this.target.limits.maxClients;
    if (wanted <= max) return wanted;
    if (minimum > max) throw new TargetError(TargetErrors.OVER_LIMIT, `${what} needs at least ${minimum} client(s) at once; --max-clients is ${max} (raise it, or ask the scenario for less)`);
    this.notes.push(`${what}: ${wanted} client(s) at once asked, clamped to --max-clients ${max}.`);
    return max;
  }

  remainingMs(): number {
    return this.#deadline - Date.now();
  }

  /** True once the time limit is reached; the first time, notes that `what` was cut short by it. */
  expired(what: string): boolean {
    if (this.remainingMs() > 0) return false;
    if (!this.#timeNoted) this.notes.push(`${what}: stopped at --max-seconds ${this.target.limits.maxSeconds} (the figures cover what ran until then).`);
    this.#timeNoted = true;
    return true;
  }

  /**
   * The run context with a hard stop: its signal also aborts `graceMs` past the time limit, so a step that
   * hangs (or a loop that does not check `expired`) ends the run instead of loading the deployment on.
   */
  scope(ctx: RunContext, graceMs = 60_000): RunContext {
    const hard = new AbortController();
    const timer = setTimeout(() => {
      ctx.log(`--max-seconds ${this.target.limits.maxSeconds} passed by ${graceMs / 1000} s: stopping the run`);
      hard.abort(new Error('--max-seconds passed'));
    }, Math.max(0, this.remainingMs()) + graceMs);
    timer.unref();
    ctx.defer(() => clearTimeout(timer));
    return { ...ctx, signal: AbortSignal.any([ctx.signal, hard.signal]) };
  }
}

/** `{url}`, `{host}` (its host name) and `{index}` (from 0, in --target's order) of the stop command replaced. */
export function stopCommandFor(command: string, url: string, index: number): string {
  return command.replaceAll('{url}', url).replaceAll('{host}', new URL(url).hostname).replaceAll('{index}', String(index));
}

/** How the run's join tokens were had, for its notes (an endpoint by its origin only: its query may hold a key). */
export function tokenSource(target: RemoteTarget): string {
  return target.tokens.kind === 'secret' ? "signed with the deployment's secret" : `from the token endpoint at ${new URL(target.tokens.url).origin}`;
}

/**
 * Runs the operator's stop command for replica `index` through `sh -c`, at most `timeoutMs` (then its
 * process group is killed; on `signal`'s abort, Ctrl-C, too); resolves when it exited 0, throws
 * ERR_BENCH_STOP_COMMAND otherwise. Errors name the replica, not the command (it may hold credentials).
 */
export async function runStopCommand(target: RemoteTarget, index: number, timeoutMs = 30_000, signal?: AbortSignal): Promise<{ output: string }> {
  if (!target.stopCommand) throw new TargetError(TargetErrors.UNSUPPORTED, 'no --stop-command: the bench may not stop a replica of this deployment');
  const url = target.urls[index];
  if (url === undefined) throw new TypeError(`no replica ${index} in --target (${target.urls.length} URL(s))`);
  const command = stopCommandFor(target.stopCommand, url, index);
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (b: Buffer) => (output += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (output += b.toString()));
  const tail = () => (output.trim() ? `: ${output.trim().slice(-500)}` : '');
  const what = `the stop command for replica ${index} (${url})`;
  const killGroup = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = () => {
      done();
      killGroup();
      reject(new TargetError(TargetErrors.STOP_COMMAND, `${what} stopped: the run was interrupted`));
    };
    const timer = setTimeout(() => {
      done();
      killGroup();
      reject(new TargetError(TargetErrors.STOP_COMMAND, `${what} did not finish in ${timeoutMs / 1000} s${tail()}`));
    }, timeoutMs);
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', (err) => {
      done();
      reject(new TargetError(TargetErrors.STOP_COMMAND, `${what} could not start: ${err.message}`));
    });
    child.once('exit', (code, sig) => {
      done();
      if (code === 0) resolve({ output });
      else reject(new TargetError(TargetErrors.STOP_COMMAND, `${what} exited with ${code ?? sig}${tail()}`));
    });
  });
}

/** Waits (at most `timeoutMs`) until `${url}/ready` answers 200; false when it did not (an interruption still throws). */
export async function waitReady(ctx: RunContext, url: string, timeoutMs: number): Promise<boolean> {
  const ready = () => fetch(new URL('/ready', url), { signal: AbortSignal.timeout(5000) }).then((r) => (r.ok ? true : null));
  try {
    return await until(ctx, ready, timeoutMs, `${url}/ready`, 500);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return false;
  }
}

/**
 * The local IPv4 address this machine sends from towards `url`'s host (what the werift clients gather
 * ICE candidates on): 127.0.0.1 for a loopback deployment, the outgoing interface's address otherwise.
 */
export async function localAddressFor(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = createSocket('udp4');
  try {
    return await new Promise<string>((resolve, reject) => {
      socket.once('error', reject);
      socket.connect(Number(port) || 9, hostname.replace(/^\[|\]$/g, ''), () => resolve(socket.address().address));
    });
  } finally {
    socket.close();
  }
}
