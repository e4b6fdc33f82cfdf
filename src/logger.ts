import { pino, type Logger } from 'pino';

export type { Logger };

/** Creates the root logger; modules take children: `logger.child({ module: 'media' })`. */
export function createLogger(options: { level: string; pretty: boolean; name?: string }): Logger {
  return pino({
    name: options.name ?? 'parley',
    level: options.level,
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
