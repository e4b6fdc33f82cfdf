import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { EmbeddedRedis } from '../../state/EmbeddedRedis.js';
import { AiWorker } from './AiWorker.js';
import { encodePcm, type ResultJob } from './jobs.js';
import { PipelineQueues } from './PipelineQueues.js';
import { ResultsConsumer } from './ResultsConsumer.js';
import { createStandIns } from './testing/standIns.js';

const CHILD = fileURLToPath(new URL('./testing/hangingWorker.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PREFIX = `stall${process.pid}`;
const MAX_AGE_MS = 60_000;
const log = pino({ level: 'silent' });

let redis: EmbeddedRedis;
let child: ChildProcess | null = null;
const opened: Array<{ close(): Promise<void> }> = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
});
afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const o of opened.reverse()) await o.close();
  await redis?.stop();
});

/** Resolves with the first stdout line of the child that starts with `prefix`. */
function line(proc: ChildProcess, prefix: string, timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`child did not print ${prefix} within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer) => {
      buffer += chunk.toString();
      const found = buffer.split('\n').find((l) => l.startsWith(prefix));
      if (found) {
        clearTimeout(timer);
        proc.stdout?.off('data', onData);
        resolve(found);
      }
    };
    proc.stdout?.on('data', onData);
    proc.once('exit', (code, signal) => reject(new Error(`child exited (${code ?? signal}) before printing ${prefix}`)));
  });
}

it('retries a job held by a worker that was killed mid-job, on another worker, within seconds', async () => {
  const results: ResultJob[] = [];
  const queues = await PipelineQueues.create({ connection: redis.url, prefix: PREFIX, maxAgeMs: MAX_AGE_MS });
  opened.push(queues);
  opened.push(await ResultsConsumer.create({ connection: redis.url, prefix: PREFIX, replicaId: 'gw', log, handler: async (r) => void results.push(r) }));

  let stderr = '';
  child = spawn(process.execPath, ['--import', 'tsx', CHILD, redis.url, PREFIX, String(MAX_AGE_MS)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr?.on('data', (b: Buffer) => (stderr += b.toString()));
  await line(child, 'READY').catch((err: Error) => {
    throw new Error(`${err.message}\n${stderr}`);
  });
  const hang = line(child, 'HANG');
  const utteranceId = 'stalled1';
  await queues.enqueueUtterance({
    utteranceId,
    roomId: 'room1',
    speakerPeerId: 'alice',
    replicaId: 'gw',
    language: 'en',
    targets: ['es'],
    audio: encodePcm(new Int16Array(1600)),
    sampleRate: 16_000,
    marks: { speechEnd: Date.now() },
  });
  await hang; // the child holds the job, its engine never answers
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const killedAt = Date.now();

  const engines = createStandIns();
  opened.push(await AiWorker.create({ redisUrl: redis.url, prefix: PREFIX, engines, maxAgeMs: MAX_AGE_MS, log }));
  const deadline = killedAt + 20_000;
  let caption: ResultJob | undefined;
  while (!(caption = results.find((r) => r.kind === 'caption' && r.original)) && Date.now() < deadline) await sleep(20);
  expect(caption, 'the job was not retried').toBeDefined();
  const recoveredMs = caption!.kind === 'caption' ? caption!.marks.sttStart! - killedAt : NaN;
  console.log(`job held by a killed worker restarted on another worker ${recoveredMs} ms after kill -9 (lockDuration 5 s, stalledInterval 2 s)`);
  expect(recoveredMs).toBeLessThan(15_000);
  expect(engines.calls.stt).toBe(1);
  // The rest of the utterance still flows after the recovery.
  while (!results.some((r) => r.kind === 'audio') && Date.now() < deadline) await sleep(20);
  expect(results.filter((r) => r.kind !== 'dropped').map((r) => `${r.kind}:${r.language}`).sort()).toEqual(['audio:es', 'caption:en', 'caption:es']);
});
