import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/** What `parley up` prints on stdout once it serves (see src/cli/up.ts). */
export type ReadyLine = { event: 'gateway.ready'; url: string; port: number; replicaId: string };

/** How a child ended: an exit code, or the signal that killed it. */
export type ChildExit = { code: number | null; signal: NodeJS.Signals | null };

export type ReplicaSpec = {
  /** Short label printed before each of the child's lines, e.g. `r0`. */
  label: string;
  /** Arguments after `process.execPath`. */
  args: string[];
  /** Environment variables added to the parent's. */
  env: Record<string, string>;
};

/** A replica child process: resolves `ready` on its gateway.ready line, `exited` when it ends. */
export type ReplicaChild = {
  readonly label: string;
  readonly child: ChildProcess;
  /** Rejects if the child exits (or cannot start) before it is ready. */
  readonly ready: Promise<ReadyLine>;
  /** Never rejects. */
  readonly exited: Promise<ChildExit>;
};

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
/** pino fields that say nothing useful at a terminal. */
const QUIET_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg']);

/** Starts one replica in its own process group, so a Ctrl-C reaches only the parent, which forwards it. */
export function spawnReplica(spec: ReplicaSpec, print: (line: string) => void): ReplicaChild {
  const child = spawn(process.execPath, spec.args, {
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<ChildExit>((resolve) => {
    child.once('error', (err) => {
      print(`[${spec.label}] could not start: ${err.message}`);
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => resolve({ code, signal }));
  }).finally(() => process.removeListener('exit', killOnExit));

  const ready = new Promise<ReadyLine>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const readyLine = parseReadyLine(line);
      if (readyLine) resolve(readyLine);
      else print(`[${spec.label}] ${shortenLogLine(line)}`);
    });
    void exited.then((exit) => reject(new Error(`exited before it was ready (${describeExit(exit)})`)));
  });
  ready.catch(() => undefined); // the caller may only look at `exited`
  createInterface({ input: child.stderr! }).on('line', (line) => print(`[${spec.label}] ${line}`));
  return { label: spec.label, child, ready, exited };
}

/** SIGTERM to every child still running, SIGKILL to those left after `graceMs`; resolves when all have exited. */
export async function stopReplicas(replicas: readonly ReplicaChild[], graceMs: number): Promise<void> {
  const running = replicas.filter((r) => isRunning(r.child));
  for (const r of running) r.child.kill('SIGTERM');
  const force = setTimeout(() => {
    for (const r of running) if (isRunning(r.child)) r.child.kill('SIGKILL');
  }, graceMs);
  await Promise.all(running.map((r) => r.exited));
  clearTimeout(force);
}

export function isRunning(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

export function describeExit(exit: ChildExit): string {
  if (exit.signal) return `signal ${exit.signal}`;
  return exit.code === null ? 'did not start' : `code ${exit.code}`;
}

function parseReadyLine(line: string): ReadyLine | null {
  if (!line.includes('"gateway.ready"')) return null;
  try {
    const parsed = JSON.parse(line) as Partial<ReadyLine>;
    return parsed.event === 'gateway.ready' && typeof parsed.url === 'string' ? (parsed as ReadyLine) : null;
  } catch {
    return null;
  }
}

/** A pino JSON line as `level  msg  key=value ...`; anything else unchanged. */
export function shortenLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = LEVELS[entry.level as number] ?? String(entry.level ?? '');
  const extras = Object.entries(entry)
    .filter(([key]) => !QUIET_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [level.padEnd(5), String(entry.msg ?? ''), ...extras].join(' ').trimEnd();
}
