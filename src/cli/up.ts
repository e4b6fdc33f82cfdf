import { startGateway } from '../app/gateway.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';

/** `parley up`: one replica until SIGINT/SIGTERM, then a graceful stop. */
export async function runUp(config: Config, log: Logger): Promise<number> {
  const gateway = await startGateway(config, log);
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
  await gateway.close();
  return 0;
}
