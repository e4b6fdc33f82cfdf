/**
 * Child process of the stall test: an AiWorker whose STT engine hangs, so the
 * parent can kill -9 it while it holds a job. Prints `READY` once its workers
 * run and `HANG` when the engine is called.
 *
 * Usage: node --import tsx hangingWorker.ts <redisUrl> <prefix> <maxAgeMs>
 */
import { pino } from 'pino';
import { AiWorker } from '../AiWorker.js';
import { createStandIns } from './standIns.js';

const [redisUrl, prefix, maxAgeMs] = process.argv.slice(2);
if (!redisUrl || !prefix) throw new TypeError('usage: hangingWorker.ts <redisUrl> <prefix> <maxAgeMs>');
const engines = createStandIns();
engines.behavior.stt = 'hang';
engines.onCall = (stage) => process.stdout.write(`HANG ${stage}\n`);
await AiWorker.create({ redisUrl, prefix, engines, maxAgeMs: Number(maxAgeMs), engineTimeoutMs: 600_000, log: pino({ level: 'silent' }) });
process.stdout.write('READY\n');
