import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { configSchema, type Config } from './schema.js';
import { clusterUrl, parseRedisUrl, sentinelUrl } from '../state/redisConnection.js';

export const ENV_PREFIX = 'PARLEY_';

export type LoadConfigOptions = {
  /** YAML file to read; falls back to env PARLEY_CONFIG. */
  file?: string;
  /** Environment to read overrides from (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Overrides applied last (CLI flags). */
  overrides?: Record<string, unknown>;
};

/** `media.rtcBasePort` -> `PARLEY_MEDIA_RTC_BASE_PORT`. */
export function envNameFor(path: string[]): string {
  return ENV_PREFIX + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Reads every config key from the environment, typed after its default value. */
function fromEnv(defaults: Record<string, unknown>, env: NodeJS.ProcessEnv, path: string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(defaults)) {
    const keyPath = [...path, key];
    if (def !== null && typeof def === 'object' && !Array.isArray(def)) {
      const nested = fromEnv(def as Record<string, unknown>, env, keyPath);
      if (Object.keys(nested).length > 0) out[key] = nested;
      continue;
    }
    const raw = env[envNameFor(keyPath)];
    if (raw === undefined) continue;
    out[key] = coerce(raw, def, envNameFor(keyPath));
  }
  return out;
}

function coerce(raw: string, def: unknown, name: string): unknown {
  if (typeof def === 'number') {
    const n = Number(raw);
    if (raw.trim() === '' || Number.isNaN(n)) throw new TypeError(`${name} must be a number, got "${raw}"`);
    return n;
  }
  if (typeof def === 'boolean') {
    if (!['true', 'false', '1', '0'].includes(raw)) throw new TypeError(`${name} must be true or false, got "${raw}"`);
    return raw === 'true' || raw === '1';
  }
  if (Array.isArray(def)) return listOf(raw, name);
  return raw;
}

/** A list variable: a JSON array of strings (`["a","b"]`), or comma-separated values (`a,b`). */
function listOf(raw: string, name: string): string[] {
  if (!raw.trim().startsWith('[')) return raw.split(',').map((s) => s.trim()).filter(Boolean);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new TypeError(`${name} looks like a JSON array but is not valid JSON: ${raw}`);
  }
  if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) throw new TypeError(`${name} must be a JSON array of strings or comma-separated values`);
  return parsed;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? merge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/** Defaults -> file -> environment -> overrides; throws a readable error on unknown keys or bad values. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const defaults = configSchema.parse({}) as unknown as Record<string, unknown>;
  const file = options.file ?? env[`${ENV_PREFIX}CONFIG`];
  let layered: Record<string, unknown> = {};
  if (file) {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8')) ?? {};
    if (!isPlainObject(parsed)) throw new TypeError(`config file ${file} must hold a mapping`);
    layered = parsed;
  }
  layered = merge(layered, fromEnv(defaults, env));
  layered = merge(layered, options.overrides ?? {});
  const result = configSchema.safeParse(layered);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new TypeError(`invalid configuration:\n${lines.join('\n')}`);
  }
  return finish(result.data);
}

/** Fills values derived from others. */
function finish(config: Config): Config {
  if (config.mode === 'production' && config.auth.secret.length < 32) {
    throw new TypeError('invalid configuration:\n  auth.secret: production mode needs a secret of at least 32 characters');
  }
  if (config.mode === 'production' && config.api.enabled && config.api.keys.length === 0) {
    throw new TypeError('invalid configuration:\n  api.keys: production mode with the server API on needs at least one API key pair (or api.enabled: false)');
  }
  if (config.webhooks.urls.length > 0 && config.api.keys.length === 0) {
    throw new TypeError('invalid configuration:\n  webhooks: deliveries are signed with an API secret; configure api.keys');
  }
  if (config.webhooks.apiKey && !config.api.keys.some((k) => k.key === config.webhooks.apiKey)) {
    throw new TypeError(`invalid configuration:\n  webhooks.apiKey: "${config.webhooks.apiKey}" is not one of api.keys`);
  }
  // Loopback unless asked: a dev gateway serves POST /dev/token to whoever can reach it.
  if (!config.http.host) config.http.host = config.mode === 'dev' ? '127.0.0.1' : '0.0.0.0';
  const { sentinels, clusterNodes } = config.redis;
  if ([config.redis.url !== '', sentinels.length > 0, clusterNodes.length > 0].filter(Boolean).length > 1) {
    throw new TypeError('invalid configuration:\n  redis: set one of redis.url, redis.sentinels or redis.clusterNodes');
  }
  const password = config.redis.password || undefined;
  if (sentinels.length > 0) config.redis.url = sentinelUrl(sentinels, config.redis.masterName, { password });
  if (clusterNodes.length > 0) config.redis.url = clusterUrl(clusterNodes, { password });
  if (config.redis.url) {
    try {
      parseRedisUrl(config.redis.url);
    } catch (err) {
      throw new TypeError(`invalid configuration:\n  redis.url: ${(err as Error).message}`);
    }
  }
  return config;
}

/** The replica id used when none is configured: stable across restarts on one host and port. */
export function defaultReplicaId(port: number): string {
  return `${hostname()}-${port}`;
}

export { configSchema, type Config };
export type ConfigInput = z.input<typeof configSchema>;
