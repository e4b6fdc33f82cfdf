/**
 * A room of N people with cameras on, played by werift load clients instead of browsers (N Chromium pages
 * with cameras need far more than 2 cores): each person is a publisher sending the synthetic VP8 simulcast
 * of bench/clients/vp8Source.ts and a viewer consuming the other N - 1 cameras at one layer. The SFU
 * carries what it would for N browsers: N simulcast producers, N x (N - 1) video consumers and 2N WebRTC
 * transports (a browser has a send and a receive transport too). Measured over one window: the CPU of the
 * mediasoup worker and the gateway, and loss and jitter at the viewers.
 */
import { ClientPool } from '../clients/ClientPool.js';
import { measureWindow, type WindowResult } from '../clients/loadWindow.js';
import type { ParleyTarget } from '../clients/targets.js';
import { CAMERA_LAYERS } from '../clients/vp8Source.js';
import type { RunContext } from '../lib/types.js';

export type SyntheticRoom = { people: number; layer: string; window: WindowResult };

export async function measureSyntheticRoom(ctx: RunContext, parley: ParleyTarget, people: number, layer: number, warmupMs: number, windowMs: number): Promise<SyntheticRoom> {
  const pool = await ClientPool.start(2);
  let stopped = false;
  const stop = async () => {
    if (!stopped) await pool.stop();
    stopped = true;
  };
  ctx.defer(stop);
  try {
    // One replica: the figure is a room's cost on one gateway and its worker, without pipes.
    const baseUrl = parley.urls[0]!;
    const base = { sfu: 'parley' as const, baseUrl, roomId: 'synthetic-room', media: 'video' as const };
    for (let i = 0; i < people; i++) {
      ctx.progress(i, 2 * people, `synthetic room: camera ${i + 1}/${people}`);
      await pool.join({ ...base, identity: `p${i}`, publish: true, subscribe: false });
    }
    for (let i = 0; i < people; i++) {
      ctx.progress(people + i, 2 * people, `synthetic room: viewer ${i + 1}/${people}`);
      await pool.join({ ...base, identity: `p${i}-view`, publish: false, subscribe: true, layer, skip: `p${i}` });
    }
    ctx.progress(2 * people, 2 * people, `synthetic room: measuring ${windowMs} ms`);
    const window = await measureWindow(pool, parley.workerPids.slice(0, 1), warmupMs, windowMs, ctx.signal, parley.gatewayPids.slice(0, 1));
    const l = CAMERA_LAYERS[layer]!;
    return { people, layer: `${l.height}p`, window };
  } finally {
    await stop();
  }
}
