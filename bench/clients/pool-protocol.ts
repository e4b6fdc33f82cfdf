/** Messages between ClientPool (the bench process) and its load-client processes (loadWorker.ts). */
import type { RtpStatsSnapshot } from './RtpStats.js';

export type { BenchClient } from './BenchClient.js';

/** What a load client sends and receives: Opus, or synthetic VP8 simulcast (received at `layer`, the top one by default). */
export type MediaSpec = { media?: 'audio' | 'video'; layer?: number; skip?: string };

export type JoinSpec = MediaSpec &
  (
    | {
        sfu: 'parley';
        baseUrl: string;
        roomId: string;
        identity: string;
        publish: boolean;
        subscribe: boolean;
        /** A join token minted by the bench process (a deployment it did not start); left out, a test token. */
        token?: string;
        /** Local address the client's ICE candidates use (default 127.0.0.1). */
        host?: string;
      }
    | { sfu: 'janus'; wsUrl: string; host: string; room: number; identity: string; publish: boolean; subscribe: boolean }
  );

export type WorkerCommand = { cmd: 'join'; spec: JoinSpec } | { cmd: 'reset' } | { cmd: 'stats' } | { cmd: 'closeAll' };

export type WorkerRequest = { id: number } & WorkerCommand;

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type WorkerStats = {
  clients: number;
  /** Streams the clients asked to receive (some may have sent nothing yet). */
  expectedStreams: number;
  streams: RtpStatsSnapshot[];
  /** Pacer ticks that fired more than a frame late (audio and video pacers): the process could not keep up. */
  lateTicks: number;
  cpu: { user: number; system: number };
};
