import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Fields that carry credentials, wherever they appear in a log object (one level deep): censored even if
 * some code logs a request, a config section or a header by mistake.
 */
export const REDACTED_PATHS = ['token', 'secret', 'adminToken', 'metricsToken', 'authorization', 'credential', 'password']
  .flatMap((key) => [key, `*.${key}`]);

/** Creates the root logger; modules take children: `logger.child({ module: 'media' })`. */
export function createLogger(options: { level: string; pretty: boolean; name?: string }): Logger {
  return pino({
    name: options.name ?? 'parley',
    level: options.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(options.pretty
      ? { transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' } } }
      : {}),
  });
}
