import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startGateway } from '../app/gateway.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';

const BIN = fileURLToPath(new URL('../../bin/parley.js', import.meta.url));

/** AI worker child processes on the gateway's Redis; their logs are passed through. */
function startAiWorkers(n: number, redisUrl: string, log: Logger, logLevel: string, configFile?: string): ChildProcess[] {
  return Array.from({ length: n }, (_, i) => {
    // The gateway's log level, however it was given (flag, environment or file): `--log-level warn` quiets both.
    const args = [BIN, 'ai-worker', '--redis-url', redisUrl, '--log-level', logLevel, ...(configFile ? ['--config', configFile] : [])];
    // The worker watches this pid and stops when this process is gone, however it died (even SIGKILL).
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, PARLEY_PARENT_PID: String(process.pid) } });
    child.once('exit', (code, signal) => {
      if (code !== 0) log.error({ worker: i, code, signal }, 'AI worker exited; translation stops until it is restarted');
    });
    return child;
  });
}

async function stopChildren(children: ChildProcess[]): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        }),
    ),
  );
}

/** `parley up`: one replica (and its AI workers) until SIGINT/SIGTERM, then a graceful stop. */
export async function runUp(config: Config, log: Logger, options: { aiWorkers: number; configFile?: string } = { aiWorkers: 0 }): Promise<number> {
  const gateway = await startGateway(config, log);
  const workers = startAiWorkers(options.aiWorkers, gateway.services.redisUrl, log, config.log.level, options.configFile);
  process.once('exit', () => workers.forEach((w) => w.kill('SIGKILL')));
  // A machine-readable line for scripts and tests that start the gateway as a child process.
  process.stdout.write(`${JSON.stringify({ event: 'gateway.ready', url: gateway.url, port: gateway.port, replicaId: gateway.services.replicaId })}\n`);
  if (config.mode === 'dev') log.info(`open ${gateway.url}/ in two browser tabs, join the same room, and talk`);
  const reason = await new Promise<string>((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
    void gateway.drainRequested.then(() => resolve('admin drain'));
  });
  log.info({ reason }, 'stopping: draining first');
  // A second Ctrl-C skips the drain.
  const skip = new Promise<void>((resolve) => process.once('SIGINT', () => resolve()));
  await Promise.race([gateway.drain(), skip]);
  const force = setTimeout(() => {
    log.error('graceful stop took over 15 s; exiting');
    process.exit(1);
  }, 15_000);
  force.unref();
  await stopChildren(workers);
  await gateway.close();
  return 0;
}
