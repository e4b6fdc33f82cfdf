/**
 * Fetching and checking production models (see catalog.ts).
 *
 * Downloads are plain HTTP(S) GETs that follow redirects, resume a `.part` file with a Range request,
 * check the sha256 when the catalog has one, then unpack archives with `tar`. After a model is in place a
 * manifest (`.parley-manifest.json`) records the sha256 of every file the engine loads, so `verify` can
 * detect later damage even where the publisher gives no checksum.
 * Hosts that cannot be reached fail within the connect timeout (10 s by default) with a message saying
 * so; the offline engines do not need any of this.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createError, Errors } from '../../errors.js';
import { requiredFiles, type CatalogEntry } from './catalog.js';

export type DownloadOptions = {
  /** Directory holding one sub-directory per model. */
  modelsDir: string;
  /** Fetch from this base URL instead, keeping each file's path (a mirror of the publisher's layout). */
  mirror?: string;
  /** Give up on a host that has not accepted the connection within this long (ms). */
  connectTimeoutMs?: number;
  /** Give up when no byte arrives for this long (ms). */
  idleTimeoutMs?: number;
  /** Where the progress bar goes; null for none. */
  progress?: NodeJS.WritableStream | null;
};

export type DownloadFailure = 'unreachable' | 'interrupted' | 'http' | 'checksum' | 'extract' | 'incomplete';

/** A download that did not produce a usable model; `reason` says which step failed. */
export class ModelDownloadError extends Error {
  constructor(readonly reason: DownloadFailure, message: string) {
    super(message);
    this.name = 'ModelDownloadError';
  }
}

export type VerifyResult = {
  name: string;
  status: 'ok' | 'missing' | 'incomplete' | 'corrupt';
  /** Required files that are absent. */
  missing: string[];
  /** Files whose sha256 differs from the catalog or the install manifest. */
  mismatched: string[];
  /** How many files had their checksum checked. */
  checked: number;
};

const MANIFEST = '.parley-manifest.json';
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNRESET', 'EHOSTDOWN']);

export function modelDir(entry: CatalogEntry, modelsDir: string): string {
  return join(modelsDir, entry.name);
}

/** True when every file the engine loads is present (no checksums; cheap enough for start-up). */
export function isInstalled(entry: CatalogEntry, modelsDir: string): boolean {
  return requiredFiles(entry).every((f) => existsSync(join(modelDir(entry, modelsDir), f)));
}

/** Throws ERR_MODEL_MISSING unless every file the model's engine loads exists; returns the model directory. */
export function requireModelFiles(entry: CatalogEntry, modelsDir: string): string {
  const dir = modelDir(entry, modelsDir);
  const missing = requiredFiles(entry).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) {
    throw createError(Errors.MODEL_MISSING, `model ${entry.name} not found in ${modelsDir} (missing ${missing.join(', ')}); run \`parley models download ${entry.name}\``, {
      model: entry.name,
      dir: modelsDir,
    });
  }
  return dir;
}

/** Downloads, checks and unpacks one model into `<modelsDir>/<name>`. */
export async function downloadModel(entry: CatalogEntry, options: DownloadOptions): Promise<{ dir: string }> {
  const dir = modelDir(entry, options.modelsDir);
  const source = entry.source;
  if (source.kind === 'archive') {
    const staging = join(options.modelsDir, '.downloads');
    await mkdir(staging, { recursive: true });
    const archive = join(staging, basename(new URL(source.url).pathname));
    await fetchToFile(resolveUrl(source.url, options.mirror), archive, source.sha256, options, entry.name);
    await extract(archive, options.modelsDir);
    await rm(archive, { force: true });
  } else {
    for (const file of source.files) {
      const target = join(dir, file.path);
      await mkdir(dirname(target), { recursive: true });
      await fetchToFile(resolveUrl(file.url, options.mirror), target, file.sha256, options, `${entry.name}/${file.path}`);
    }
  }
  const missing = requiredFiles(entry).filter((f) => !existsSync(join(dir, f)));
  if (missing.length > 0) throw new ModelDownloadError('incomplete', `${entry.name}: after download these files are missing in ${dir}: ${missing.join(', ')}`);
  await writeManifest(entry, dir);
  return { dir };
}

/** Checks presence and checksums of one model. */
export async function verifyModel(entry: CatalogEntry, modelsDir: string): Promise<VerifyResult> {
  const dir = modelDir(entry, modelsDir);
  const result: VerifyResult = { name: entry.name, status: 'ok', missing: [], mismatched: [], checked: 0 };
  if (!existsSync(dir)) return { ...result, status: 'missing', missing: requiredFiles(entry) };
  result.missing = requiredFiles(entry).filter((f) => !existsSync(join(dir, f)));
  const expected = new Map<string, string>();
  const manifest = await readFile(join(dir, MANIFEST), 'utf8').then((t) => JSON.parse(t) as { files?: Record<string, string> }, () => undefined);
  for (const [file, sum] of Object.entries(manifest?.files ?? {})) expected.set(file, sum);
  if (entry.source.kind === 'files') for (const f of entry.source.files) if (f.sha256) expected.set(f.path, f.sha256);
  for (const [file, sum] of expected) {
    const path = join(dir, file);
    if (!existsSync(path)) continue;
    result.checked++;
    if ((await sha256File(path)) !== sum) result.mismatched.push(file);
  }
  if (result.missing.length > 0) result.status = 'incomplete';
  else if (result.mismatched.length > 0) result.status = 'corrupt';
  return result;
}

export function resolveUrl(url: string, mirror?: string): URL {
  const original = new URL(url);
  return mirror ? new URL(original.pathname.replace(/^\//, ''), mirror.endsWith('/') ? mirror : `${mirror}/`) : original;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function writeManifest(entry: CatalogEntry, dir: string): Promise<void> {
  const files: Record<string, string> = {};
  for (const f of requiredFiles(entry)) {
    const path = join(dir, f);
    if (statSync(path).isFile()) files[f] = await sha256File(path);
  }
  await writeFile(join(dir, MANIFEST), `${JSON.stringify({ name: entry.name, installedAt: new Date().toISOString(), files }, null, 2)}\n`);
}

/** GETs `url` into `target`, resuming `<target>.part`, then checks the sha256 (if known) and renames. */
async function fetchToFile(url: URL, target: string, sha256: string | undefined, options: DownloadOptions, label: string): Promise<void> {
  const part = `${target}.part`;
  const have = await stat(part).then((s) => s.size, () => 0);
  const res = await get(url, have > 0 ? { Range: `bytes=${have}-` } : {}, options, 5);
  if (res.statusCode === 416) {
    res.resume(); // the .part already holds the whole file
  } else {
    const resumed = res.statusCode === 206;
    const start = resumed ? have : 0;
    const length = Number(res.headers['content-length'] ?? 0);
    const bar = new ProgressBar(label, length > 0 ? start + length : 0, options.progress === undefined ? process.stderr : options.progress);
    bar.update(start);
    let done = start;
    const counter = new Transform({
      transform(chunk: Buffer, _enc, cb) {
        done += chunk.length;
        bar.update(done);
        cb(null, chunk);
      },
    });
    try {
      await pipeline(res, counter, createWriteStream(part, { flags: resumed ? 'a' : 'w' }));
    } catch (err) {
      if (err instanceof ModelDownloadError) throw err;
      throw new ModelDownloadError('interrupted', `${label}: download interrupted after ${done} bytes (${(err as Error).message}); the partial file ${part} is kept, run the same command again to resume`);
    } finally {
      bar.finish(done);
    }
  }
  if (sha256) {
    const actual = await sha256File(part);
    if (actual !== sha256) {
      await rm(part, { force: true });
      throw new ModelDownloadError('checksum', `${label}: sha256 ${actual} does not match the catalog's ${sha256}; the partial file was removed, run the download again`);
    }
  }
  await rename(part, target);
}

function get(url: URL, headers: Record<string, string>, options: DownloadOptions, redirects: number): Promise<IncomingMessage> {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const client = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const unreachable = (code: string): ModelDownloadError =>
      new ModelDownloadError(
        'unreachable',
        `cannot reach ${url.host} (${code}): the model host is unreachable from this machine. ` +
          `The offline engines (pocketsphinx, apertium, espeak-ng) keep working without it. To install this model, ` +
          `retry where ${url.host} is reachable, point --mirror at a copy, or copy the model directory into ${options.modelsDir}.`,
      );
    const req = client.get(url, { headers: { 'User-Agent': 'parley-models', ...headers }, agent: false }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects <= 0) return reject(new ModelDownloadError('http', `${url}: too many redirects`));
        return resolve(get(new URL(res.headers.location, url), headers, options, redirects - 1));
      }
      if (status !== 200 && status !== 206 && status !== 416) {
        res.resume();
        return reject(new ModelDownloadError('http', `${url}: HTTP ${status} ${res.statusMessage ?? ''}`.trim()));
      }
      res.setTimeout(options.idleTimeoutMs ?? 30_000, () => res.destroy(unreachable('ETIMEDOUT, no data')));
      resolve(res);
    });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), connectTimeoutMs);
    req.on('socket', (socket) => socket.once('connect', () => clearTimeout(timer)));
    req.on('response', () => clearTimeout(timer));
    req.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const code = err.code ?? 'error';
      reject(UNREACHABLE_CODES.has(code) ? unreachable(code) : new ModelDownloadError('http', `${url}: ${err.message}`));
    });
  });
}

async function extract(archive: string, into: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const tar = spawn('tar', ['-xjf', archive, '-C', into], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    tar.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    tar.on('error', (err) => reject(new ModelDownloadError('extract', `cannot run tar: ${err.message}`)));
    tar.on('close', (code) =>
      code === 0 ? resolve() : reject(new ModelDownloadError('extract', `tar -xjf ${archive} failed (${code}): ${stderr.trim()}; needs tar and bzip2`)),
    );
  });
}

/** A one-line progress bar (redrawn in place on a TTY, a line per 10% otherwise). */
class ProgressBar {
  private lastDraw = 0;
  private lastDecile = -1;
  private readonly started = Date.now();

  constructor(private readonly label: string, private readonly total: number, private readonly out: NodeJS.WritableStream | null) {}

  update(bytes: number): void {
    if (!this.out) return;
    const tty = (this.out as NodeJS.WriteStream).isTTY === true;
    const now = Date.now();
    if (tty && now - this.lastDraw < 100) return;
    const decile = this.total > 0 ? Math.floor((bytes / this.total) * 10) : Math.floor(bytes / 10_485_760);
    if (!tty && decile === this.lastDecile) return;
    this.lastDraw = now;
    this.lastDecile = decile;
    this.out.write(`${tty ? '\r' : ''}${this.render(bytes)}${tty ? '' : '\n'}`);
  }

  finish(bytes: number): void {
    if (!this.out) return;
    const tty = (this.out as NodeJS.WriteStream).isTTY === true;
    this.out.write(`${tty ? '\r' : ''}${this.render(bytes)}\n`);
  }

  private render(bytes: number): string {
    const mb = (n: number): string => (n / 1_048_576).toFixed(1);
    const rate = bytes / Math.max(0.001, (Date.now() - this.started) / 1000);
    if (this.total <= 0) return `${this.label} ${mb(bytes)} MB ${mb(rate)} MB/s`;
    const fraction = Math.min(1, bytes / this.total);
    const width = 30;
    const filled = Math.round(fraction * width);
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${mb(bytes)}/${mb(this.total)} MB ${mb(rate)} MB/s`;
  }
}
