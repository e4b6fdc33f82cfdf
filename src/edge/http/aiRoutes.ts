/**
 * What the AI workers sharing this gateway's Redis can do: GET /ai/engines for
 * the web client, and a summary for /health. Both read the engine directory
 * (src/ai/worker/EngineDirectory.ts); without Redis (a MemoryStore) no AI
 * worker can reach this gateway, so the answer is "none".
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Services } from '../../app/services.js';
import { readEngineDirectory, type EngineDirectorySnapshot } from '../../ai/worker/EngineDirectory.js';
import { Errors } from '../../errors.js';
import { RedisStore } from '../../state/RedisStore.js';
import { guard, sendJson } from './respond.js';

/** GET /ai/engines answers `{ workers, engines }`; each engine row: `{ stage, language, engine, workers }`. */
export type AiEnginesBody = { workers: number; engines: EngineDirectorySnapshot['engines'] };

/** The /health summary: live AI workers and the languages (translate: 'from-to' pairs) some worker serves. */
export type AiHealth = {
  workers: number;
  languages: { stt: string[]; translate: string[]; tts: string[] };
  /** Set when the directory could not be read (the other fields are then empty). */
  error?: string;
};

/** A directory read must not hold a request for long when Redis is down. */
const READ_TIMEOUT_MS = 1_000;

/** Pages served by another replica ask this one after a failover: the answer is public, allow any origin. */
const CORS = { 'access-control-allow-origin': '*' };

export function aiRoutes(app: TemplatedApp, s: Services): void {
  app.get('/ai/engines', (res) => {
    const state = guard(res);
    readDirectory(s).then(
      (dir) => sendJson(res, state, 200, { workers: dir.workers.length, engines: dir.engines } satisfies AiEnginesBody, CORS),
      (err: Error) => sendJson(res, state, 503, { error: { code: Errors.NOT_READY.code, message: `AI engine directory unavailable: ${err.message}` } }, CORS),
    );
  });
}

/** Never rejects: a Redis failure is reported in `error` with zero workers. */
export async function aiHealth(s: Services): Promise<AiHealth> {
  try {
    const dir = await readDirectory(s);
    const languages: AiHealth['languages'] = { stt: [], translate: [], tts: [] };
    for (const row of dir.engines) if (!languages[row.stage].includes(row.language)) languages[row.stage].push(row.language);
    return { workers: dir.workers.length, languages };
  } catch (err) {
    return { workers: 0, languages: { stt: [], translate: [], tts: [] }, error: (err as Error).message };
  }
}

async function readDirectory(s: Services): Promise<EngineDirectorySnapshot> {
  if (!(s.store instanceof RedisStore)) return { workers: [], engines: [] };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${READ_TIMEOUT_MS} ms`)), READ_TIMEOUT_MS);
  });
  try {
    return await Promise.race([readEngineDirectory(s.store.client), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
