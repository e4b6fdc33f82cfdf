/** Messages between ClientPool (the bench process) and its load-client processes (loadWorker.ts). */
import type { AudioPeer } from './AudioPeer.js';
import type { JoinTimes } from './ParleyClient.js';
import type { RtpStatsSnapshot } from './RtpStats.js';

/** What ParleyClient and JanusClient have in common. */
export type BenchClient = { readonly times: JoinTimes; readonly sendPeer: AudioPeer | null; readonly recvPeer: AudioPeer | null; readonly consumed: number; close(): Promise<void> };

export type JoinSpec =
  | { sfu: 'parley'; baseUrl: string; roomId: string; identity: string; publish: boolean; subscribe: boolean }
  | { sfu: 'janus'; wsUrl: string; host: string; room: number; identity: string; publish: boolean; subscribe: boolean };

export type WorkerCommand = { cmd: 'join'; spec: JoinSpec } | { cmd: 'reset' } | { cmd: 'stats' } | { cmd: 'closeAll' };

export type WorkerRequest = { id: number } & WorkerCommand;

export type WorkerReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };

export type WorkerStats = {
  clients: number;
  /** Streams the clients asked to receive (some may have sent nothing yet). */
  expectedStreams: number;
  streams: RtpStatsSnapshot[];
  /** Pacer ticks that fired more than a frame late: the process could not keep 50 packets/s. */
  lateTicks: number;
  cpu: { user: number; system: number };
};
