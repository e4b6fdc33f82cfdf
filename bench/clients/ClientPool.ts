/**
 * Load-client processes (loadWorker.ts, run through tsx) driven over IPC.
 * Joins are spread round-robin; `stats()` gathers every process's streams.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CpuMeter } from './procCpu.js';
import type { JoinSpec, WorkerCommand, WorkerReply, WorkerStats } from './pool-protocol.js';

const WORKER = fileURLToPath(new URL('./loadWorker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

type Child = { proc: ChildProcess; pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }> };

export class ClientPool {
  readonly #children: Child[];
  #next = 1;
  #turn = 0;

  private constructor(children: Child[]) {
    this.#children = children;
  }

  static async start(processes: number): Promise<ClientPool> {
    const children = await Promise.all(Array.from({ length: Math.max(1, processes) }, () => spawnChild()));
    return new ClientPool(children);
  }

  get pids(): number[] {
    return this.#children.map((c) => c.proc.pid!);
  }

  /** A CPU meter over every client process. */
  cpuMeter(): CpuMeter {
    return new CpuMeter(this.pids);
  }

  /** Joins one participant in the next process; resolves with the join time and the streams it consumes. */
  join(spec: JoinSpec): Promise<{ ms: number; consumed: number }> {
    const child = this.#children[this.#turn++ % this.#children.length]!;
    return this.#call(child, { cmd: 'join', spec }) as Promise<{ ms: number; consumed: number }>;
  }

  async reset(): Promise<void> {
    await Promise.all(this.#children.map((c) => this.#call(c, { cmd: 'reset' })));
  }

  async stats(): Promise<WorkerStats[]> {
    return (await Promise.all(this.#children.map((c) => this.#call(c, { cmd: 'stats' })))) as WorkerStats[];
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.#children.map((c) => this.#call(c, { cmd: 'closeAll' }, 30_000).catch(() => undefined)));
  }

  /** Closes the clients and ends the processes (idempotent). */
  async stop(): Promise<void> {
    await this.closeAll();
    await Promise.all(
      this.#children.map(async ({ proc }) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return;
        const gone = new Promise((r) => proc.once('exit', r));
        proc.disconnect?.();
        const force = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(force);
      }),
    );
  }

  #call(child: Child, req: WorkerCommand, timeoutMs = 60_000): Promise<unknown> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.pending.delete(id);
        reject(new Error(`load client ${child.proc.pid}: no answer to ${req.cmd} in ${timeoutMs} ms`));
      }, timeoutMs);
      child.pending.set(id, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      });
      child.proc.send({ ...req, id });
    });
  }
}

async function spawnChild(): Promise<Child> {
  const proc = fork(WORKER, [], { cwd: ROOT, execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], env: { ...process.env, TEST_LOG_LEVEL: 'warn' } });
  const child: Child = { proc, pending: new Map() };
  const killOnExit = () => proc.kill('SIGKILL');
  process.once('exit', killOnExit);
  proc.once('exit', (code) => {
    process.removeListener('exit', killOnExit);
    for (const p of child.pending.values()) p.reject(new Error(`load client process exited with ${code}`));
    child.pending.clear();
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('load client process not ready in 30 s')), 30_000);
    proc.once('error', reject);
    proc.on('message', (msg: WorkerReply) => {
      if (msg.id === 0) {
        clearTimeout(timer);
        resolve();
        return;
      }
      const p = child.pending.get(msg.id);
      if (!p) return;
      child.pending.delete(msg.id);
      if (msg.ok) p.resolve(msg.result);
      else p.reject(new Error(msg.error));
    });
  });
  return child;
}
