/**
 * A load-client process: hosts many Parley or Janus participants (werift
 * peers) and answers its parent over IPC (see ClientPool). Spreading the
 * clients over a few processes keeps one saturated event loop from faking
 * loss, and lets the bench measure the clients' CPU apart from the SFU's.
 */
import { JanusClient } from './JanusClient.js';
import { Pacer } from './opusSource.js';
import { ParleyClient } from './ParleyClient.js';
import { VideoPacer } from './vp8Source.js';
import type { RtpStatsSnapshot } from './RtpStats.js';
import type { BenchClient, JoinSpec, WorkerReply, WorkerRequest, WorkerStats } from './pool-protocol.js';

const pacer = new Pacer();
const videoPacer = new VideoPacer();
const clients: BenchClient[] = [];

async function join(spec: JoinSpec): Promise<{ ms: number; consumed: number }> {
  const video = spec.media === 'video';
  const media = {
    identity: spec.identity,
    publish: spec.publish && !video ? pacer : undefined,
    publishVideo: spec.publish && video ? videoPacer : undefined,
    subscribe: spec.subscribe,
    layer: spec.layer,
    skip: spec.skip,
  };
  const client: BenchClient =
    spec.sfu === 'parley'
      ? await ParleyClient.join({ baseUrl: spec.baseUrl, roomId: spec.roomId, kind: video ? 'video' : 'audio', token: spec.token, host: spec.host, ...media })
      : await JanusClient.join({ wsUrl: spec.wsUrl, host: spec.host, room: spec.room, ...media });
  clients.push(client);
  if (client.recvPeer) await client.recvPeer.connected();
  return { ms: performance.now() - client.times.start, consumed: client.consumed };
}

function stats(): WorkerStats {
  const streams: RtpStatsSnapshot[] = [];
  let expectedStreams = 0;
  for (const c of clients) {
    expectedStreams += c.consumed;
    for (const s of c.recvPeer?.streams.values() ?? []) streams.push(s.snapshot());
  }
  return { clients: clients.length, expectedStreams, streams, lateTicks: pacer.lateTicks + videoPacer.lateTicks, cpu: process.cpuUsage() };
}

async function handle(req: WorkerRequest): Promise<unknown> {
  switch (req.cmd) {
    case 'join':
      return join(req.spec);
    case 'reset':
      for (const c of clients) c.recvPeer?.resetStats();
      pacer.lateTicks = 0;
      videoPacer.lateTicks = 0;
      return {};
    case 'stats':
      return stats();
    case 'closeAll': {
      const all = clients.splice(0);
      await Promise.all(all.map((c) => c.close().catch(() => undefined)));
      return {};
    }
  }
}

process.on('message', (req: WorkerRequest) => {
  handle(req).then(
    (result) => process.send!({ id: req.id, ok: true, result } satisfies WorkerReply),
    (err: unknown) => process.send!({ id: req.id, ok: false, error: err instanceof Error ? err.message : String(err) } satisfies WorkerReply),
  );
});
process.on('disconnect', () => process.exit(0));
process.send!({ id: 0, ok: true, result: 'ready' } satisfies WorkerReply);
