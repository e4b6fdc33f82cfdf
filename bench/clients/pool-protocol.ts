/** Messages between ClientPool (the bench process) and its load-client processes (loadWorker.ts). */
import type { MediaPeer } from './MediaPeer.js';
import type { JoinTimes } from './ParleyClient.js';
import type { RtpStatsSnapshot } from './RtpStats.js';

/** What ParleyClient and JanusClient have in common. */
export type BenchClient = { readonly times: JoinTimes; readonly sendPeer: MediaPeer | null; readonly recvPeer: MediaPeer | null; readonly consumed: number; close(): Promise<void> };

/** What a load client sends and receives: Opus, or synthetic VP8 simulcast (received at `layer`, the top one by default). */
export type MediaSpec = { media?: 'audio' | 'video'; layer?: number; skip?: string };

export type JoinSpec = MediaSpec &
  (
    | { sfu: 'parley'; baseUrl: string; roomId: string; identity: string; publish: boolean; subscribe: boolean }
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
