import type { Registry } from 'prom-client';
import type { RoomStore } from '../../actors/room/RoomStore.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../logger.js';
import type { RoomProducers } from '../../session/RoomProducers.js';
import type { SessionManager } from '../../session/SessionManager.js';
import type { Store } from '../../state/Store.js';
import { VadThread } from '../audio/vadThread.js';
import { PIPELINE_PREFIX } from '../pipeline/names.js';
import { UNPACED } from '../simultaneous/pacer.js';
import { PipelineQueues, createBullConnection } from '../pipeline/PipelineQueues.js';
import { ResultsConsumer } from '../pipeline/ResultsConsumer.js';
import { Interpreter } from './Interpreter.js';
import { SpeechStreams } from './SpeechStreams.js';
import { UtteranceTimings } from './UtteranceTimings.js';

export type InterpreterHandle = {
  interpreter: Interpreter;
  /** Shutdown, in order: stop taking results, stop tapping and playing, stop streaming, close the queues, stop the VAD thread. */
  close(): Promise<void>;
};

/** Builds the gateway's translation side: VAD thread, queues, results consumer, interpreter. */
export async function startInterpreter(o: {
  config: Config;
  redisUrl: string;
  replicaId: string;
  store: Store;
  rooms: RoomStore;
  producers: RoomProducers;
  sessions: SessionManager;
  registry: Registry;
  log: Logger;
}): Promise<InterpreterHandle> {
  let vad = await VadThread.create();
  // A dead VAD thread is replaced; the taps it carried close and reopen on the next refresh.
  const watchVad = (thread: VadThread): void => {
    thread.observer.once('died', (err) => {
      o.log.error({ err }, 'VAD thread died; starting a new one');
      void VadThread.create().then(
        (next) => {
          vad = next;
          watchVad(next);
        },
        (e: unknown) => o.log.error({ err: e }, 'could not restart the VAD thread; translation is off on this replica'),
      );
    });
  };
  watchVad(vad);
  const queues = await PipelineQueues.create({ connection: o.redisUrl, maxQueueDepth: o.config.ai.maxQueueDepth, maxAgeMs: o.config.ai.maxAgeMs });
  const timings = new UtteranceTimings(o.registry, o.log);
  const ai = o.config.ai;
  // Audio chunks get a connection of their own: a burst of them never waits behind queue commands.
  const audio = createBullConnection(o.redisUrl, 'parley-audio-streams');
  const streams = new SpeechStreams({ queues, redis: audio, replicaId: o.replicaId, prefix: PIPELINE_PREFIX, maxUtteranceMs: ai.maxUtteranceMs, chunkMs: ai.chunkMs, maxAgeMs: ai.maxAgeMs, admitMs: ai.sessionAdmitMs, translation: ai.translation, log: o.log });
  const segmentation = { maxUtteranceMs: ai.maxUtteranceMs, minSilenceMs: ai.minSilenceMs, quietEndRatio: ai.quietEndRatio, chunkMs: ai.chunkMs };
  const interpreter = new Interpreter({ replicaId: o.replicaId, store: o.store, rooms: o.rooms, producers: o.producers, sessions: o.sessions, streams, vad: () => vad, timings, maxAgeMs: ai.maxAgeMs, segmentation, pace: ai.translation === 'simultaneous' ? ai.playout : UNPACED, log: o.log });
  streams.on('refused', interpreter.onRefused);
  const consumer = await ResultsConsumer.create({ connection: o.redisUrl, replicaId: o.replicaId, handler: interpreter.onResult, maxAgeMs: o.config.ai.maxAgeMs, log: o.log });
  // Room events can arrive in bursts: one refresh per room at a time, the latest state wins.
  const running = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const refresh = (roomId: string): void => {
    if (running.has(roomId)) {
      again.add(roomId);
      return;
    }
    const p = interpreter
      .refresh(roomId)
      .catch((err: unknown) => o.log.warn({ err, roomId }, 'translation refresh failed'))
      .finally(() => {
        running.delete(roomId);
        if (again.delete(roomId)) refresh(roomId);
      });
    running.set(roomId, p);
  };
  const onChanges = (roomId: string): void => refresh(roomId);
  o.sessions.relay.observer.on('changes', onChanges);
  return {
    interpreter,
    async close() {
      o.sessions.relay.observer.off('changes', onChanges);
      // Stop taking results first, so none creates a voice after the interpreter closed.
      await consumer.close().catch(() => undefined);
      await Promise.all(running.values());
      await interpreter.close();
      streams.close();
      await queues.close().catch(() => undefined);
      await audio.quit().catch(() => audio.disconnect());
      await vad.close().catch(() => undefined);
    },
  };
}
