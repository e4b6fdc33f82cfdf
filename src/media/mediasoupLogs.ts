import { createRequire } from 'node:module';
import { format } from 'node:util';
import type { Logger } from '../logger.js';

/**
 * Routes mediasoup's logs (it uses the `debug` package, and pins each logger's
 * output to the console) through pino. Must be imported before mediasoup: it
 * hooks the creation of debug instances so their `log` goes to our sink.
 */
type DebugInstance = { namespace: string; useColors: boolean; inspectOpts?: { hideDate?: boolean }; log?: unknown };
type CreateDebug = { init?: (d: DebugInstance) => void; enable(ns: string): void };

const requireFromMediasoup = createRequire(createRequire(import.meta.url).resolve('mediasoup'));
const createDebug = requireFromMediasoup('debug') as CreateDebug;

let sink: Logger | null = null;

const originalInit = createDebug.init;
createDebug.init = (instance: DebugInstance) => {
  originalInit?.(instance);
  instance.useColors = false;
  instance.inspectOpts = { ...(instance.inspectOpts ?? {}), hideDate: true };
  const write = (...args: unknown[]) => {
    if (!sink) return;
    const line = format(...(args as [unknown, ...unknown[]]));
    const at = line.indexOf(`${instance.namespace} `);
    const text = at >= 0 ? line.slice(at + instance.namespace.length + 1) : line;
    const level = instance.namespace.includes(':ERROR') ? 'error' : instance.namespace.includes(':WARN') ? 'warn' : 'debug';
    sink[level]({ ns: instance.namespace }, text);
  };
  // mediasoup assigns console functions to `log` right after creating each instance: keep ours.
  Object.defineProperty(instance, 'log', { get: () => write, set: () => undefined, configurable: true });
};

const NAMESPACES: Record<string, string> = {
  debug: 'mediasoup*',
  warn: 'mediasoup:WARN*,mediasoup:ERROR*',
  error: 'mediasoup:ERROR*',
  none: '',
};

/** Sends mediasoup's logs at `level` and above to `log`. */
export function routeMediasoupLogs(log: Logger, level: 'debug' | 'warn' | 'error' | 'none'): void {
  sink = log;
  createDebug.enable(NAMESPACES[level] ?? '');
}
