/**
 * Child process of the takeover test: an AiWorker on the real engines of this machine (pocketsphinx,
 * apertium, espeak-ng), so the parent can kill -9 it while it holds a recognition session. Prints
 * `READY` once its workers run.
 *
 * Usage: node --import tsx sessionWorker.ts <redisUrl> <prefix>
 */
import { pino } from 'pino';
import { createEngines } from '../../engines/registry.js';
import { AiWorker } from '../AiWorker.js';

const [redisUrl, prefix] = process.argv.slice(2);
if (!redisUrl || !prefix) throw new TypeError('usage: sessionWorker.ts <redisUrl> <prefix>');
const engines = await createEngines({ modelsDir: 'no-models', pythonBin: '/usr/bin/python3', prefer: 'offline' });
await AiWorker.create({ redisUrl, prefix, engines, maxAgeMs: 60_000, log: pino({ level: 'silent' }) });
process.stdout.write('READY\n');
