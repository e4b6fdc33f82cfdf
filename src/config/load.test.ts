import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envNameFor, loadConfig } from './load.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-config-test-'));
let fileCount = 0;

/** Writes a YAML config file of its own for one test. */
function yamlFile(text: string): string {
  const path = join(dir, `config-${++fileCount}.yaml`);
  writeFileSync(path, text);
  return path;
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECRET_32 = 'x'.repeat(32);

describe('envNameFor', () => {
  it('joins the key path in upper snake case behind the PARLEY_ prefix', () => {
    expect(envNameFor(['media', 'rtcBasePort'])).toBe('PARLEY_MEDIA_RTC_BASE_PORT');
    expect(envNameFor(['http', 'allowedOrigins'])).toBe('PARLEY_HTTP_ALLOWED_ORIGINS');
    expect(envNameFor(['auth', 'devTokenTtlSeconds'])).toBe('PARLEY_AUTH_DEV_TOKEN_TTL_SECONDS');
    expect(envNameFor(['mode'])).toBe('PARLEY_MODE');
  });
});

describe('loadConfig', () => {
  it('listens on loopback in dev mode and on every interface in production, unless http.host is set', () => {
    const secret = 'x'.repeat(32);
    const keys = `app:${secret}`;
    expect(loadConfig({ env: {} }).http.host).toBe('127.0.0.1');
    expect(loadConfig({ env: { PARLEY_HTTP_HOST: '0.0.0.0' } }).http.host).toBe('0.0.0.0');
    expect(loadConfig({ env: { PARLEY_MODE: 'production', PARLEY_AUTH_SECRET: secret, PARLEY_API_KEYS: keys } }).http.host).toBe('0.0.0.0');
  });

  it('refuses production mode with the server API on and no API key, and webhooks without a key to sign them', () => {
    const secret = 'x'.repeat(32);
    expect(() => loadConfig({ env: { PARLEY_MODE: 'production', PARLEY_AUTH_SECRET: secret } })).toThrow(/api\.keys: production mode/);
    expect(loadConfig({ env: { PARLEY_MODE: 'production', PARLEY_AUTH_SECRET: secret, PARLEY_API_ENABLED: 'false' } }).api.enabled).toBe(false);
    expect(() => loadConfig({ env: { PARLEY_WEBHOOKS_URLS: '["http://127.0.0.1:9/hook"]' } })).toThrow(/webhooks: deliveries are signed/);
  });

  it('returns the defaults with no file, environment or overrides', () => {
    const config = loadConfig({ env: {} });
    expect(config.mode).toBe('dev');
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080, allowedOrigins: [] });
    expect(config.media.rtcBasePort).toBe(40000);
    expect(config.rooms).toEqual({ maxPeers: 16, reconnectGraceMs: 15000 });
    expect(config.log).toEqual({ level: 'info', pretty: false });
  });

  it('reads a YAML file over the defaults, keeping the defaults of keys it does not name', () => {
    const file = yamlFile('http:\n  port: 9000\nrooms:\n  maxPeers: 3\n');
    const config = loadConfig({ file, env: {} });
    expect(config.http.port).toBe(9000);
    expect(config.http.host).toBe('127.0.0.1');
    expect(config.rooms).toEqual({ maxPeers: 3, reconnectGraceMs: 15000 });
  });

  it('finds the file through PARLEY_CONFIG when no file option is given', () => {
    const file = yamlFile('rooms:\n  maxPeers: 5\n');
    expect(loadConfig({ env: { PARLEY_CONFIG: file } }).rooms.maxPeers).toBe(5);
  });

  it('accepts an empty file as no settings', () => {
    expect(loadConfig({ file: yamlFile(''), env: {} }).http.port).toBe(8080);
  });

  it('refuses a file that is not a mapping', () => {
    expect(() => loadConfig({ file: yamlFile('- a\n- b\n'), env: {} })).toThrow(/must hold a mapping/);
  });

  it('reads numbers, lists, booleans and enums from variables named after the key path', () => {
    const config = loadConfig({
      env: {
        PARLEY_MEDIA_RTC_BASE_PORT: '41000',
        PARLEY_HTTP_ALLOWED_ORIGINS: 'a, b,',
        PARLEY_LOG_PRETTY: 'true',
        PARLEY_LOG_LEVEL: 'debug',
        PARLEY_REDIS_URL: 'redis://cache:6379',
      },
    });
    expect(config.media.rtcBasePort).toBe(41000);
    expect(config.http.allowedOrigins).toEqual(['a', 'b']);
    expect(config.log).toEqual({ level: 'debug', pretty: true });
    expect(config.redis.url).toBe('redis://cache:6379');
  });

  it('reads a list variable as a JSON array too (URLs may hold commas), and refuses a broken one', () => {
    const urls = ['turn:t.example.com:3478?transport=udp', 'turn:t.example.com:3478?transport=tcp'];
    expect(loadConfig({ env: { PARLEY_TURN_URLS: JSON.stringify(urls) } }).turn.urls).toEqual(urls);
    expect(loadConfig({ env: { PARLEY_TURN_URLS: urls.join(',') } }).turn.urls).toEqual(urls);
    expect(() => loadConfig({ env: { PARLEY_TURN_URLS: '["turn:a' } })).toThrow(/PARLEY_TURN_URLS.*JSON/);
    expect(() => loadConfig({ env: { PARLEY_TURN_URLS: '[1,2]' } })).toThrow(/array of strings/);
  });

  it.each([
    ['1', true],
    ['0', false],
    ['false', false],
  ])('reads the boolean variable value %s as %s', (raw, expected) => {
    expect(loadConfig({ env: { PARLEY_LOG_PRETTY: raw } }).log.pretty).toBe(expected);
  });

  it('refuses a variable that is not a number where a number is expected, naming the variable', () => {
    expect(() => loadConfig({ env: { PARLEY_MEDIA_RTC_BASE_PORT: 'forty' } })).toThrow(/PARLEY_MEDIA_RTC_BASE_PORT must be a number/);
    expect(() => loadConfig({ env: { PARLEY_HTTP_PORT: ' ' } })).toThrow(/PARLEY_HTTP_PORT must be a number/);
  });

  it('refuses a boolean variable that is not true/false/1/0', () => {
    expect(() => loadConfig({ env: { PARLEY_LOG_PRETTY: 'yes' } })).toThrow(/PARLEY_LOG_PRETTY must be true or false/);
  });

  it('refuses a variable value outside the allowed range, naming the key path', () => {
    expect(() => loadConfig({ env: { PARLEY_MEDIA_RTC_BASE_PORT: '80' } })).toThrow(/media\.rtcBasePort/);
  });

  it('applies file, then environment, then overrides', () => {
    const file = yamlFile('http:\n  host: 10.0.0.1\n  port: 9000\nrooms:\n  maxPeers: 3\n');
    const env = { PARLEY_HTTP_PORT: '9001', PARLEY_ROOMS_MAX_PEERS: '4' };

    const fileAndEnv = loadConfig({ file, env });
    expect(fileAndEnv.http).toMatchObject({ host: '10.0.0.1', port: 9001 });
    expect(fileAndEnv.rooms.maxPeers).toBe(4);

    const all = loadConfig({ file, env, overrides: { http: { port: 9002 } } });
    expect(all.http).toMatchObject({ host: '10.0.0.1', port: 9002 });
    expect(all.rooms.maxPeers).toBe(4);
  });

  it('refuses an unknown key in the file with a message naming it', () => {
    const nested = yamlFile('http:\n  port: 9000\n  portt: 9001\n');
    expect(() => loadConfig({ file: nested, env: {} })).toThrow(/http: .*"portt"/);

    const topLevel = yamlFile('verbose: true\n');
    expect(() => loadConfig({ file: topLevel, env: {} })).toThrow(/\(root\): .*"verbose"/);
  });

  it('refuses a value of the wrong type, naming the key path', () => {
    const file = yamlFile('http:\n  port: "eighty"\n');
    expect(() => loadConfig({ file, env: {} })).toThrow(/http\.port/);
    expect(() => loadConfig({ file: yamlFile('log:\n  level: loud\n'), env: {} })).toThrow(/log\.level/);
    expect(() => loadConfig({ env: {}, overrides: { http: { allowedOrigins: 'a,b' } } })).toThrow(/http\.allowedOrigins/);
  });

  it('refuses production mode without a secret of at least 32 characters', () => {
    expect(() => loadConfig({ env: { PARLEY_MODE: 'production' } })).toThrow(/auth\.secret: production mode needs a secret/);
    expect(() => loadConfig({ env: { PARLEY_MODE: 'production', PARLEY_AUTH_SECRET: 'x'.repeat(31) } })).toThrow(/auth\.secret/);
  });

  it('accepts production mode with a 32-character secret', () => {
    const file = yamlFile(`mode: production\nauth:\n  secret: ${SECRET_32}\napi:\n  keys:\n    - key: app\n      secret: ${SECRET_32}\n`);
    const config = loadConfig({ file, env: {} });
    expect(config.mode).toBe('production');
    expect(config.api.keys).toEqual([{ key: 'app', secret: SECRET_32 }]);
    expect(config.auth.secret).toBe(SECRET_32);
  });
});
