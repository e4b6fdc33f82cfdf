/**
 * ports: the UDP port budget. (a) WebRtcServer mode, what Parley runs: every
 * WebRtcTransport of a worker shares one UDP port. (b) Per-transport port
 * range, what the previous system ran (40000-40100 configured, 40000-40019
 * open in its firewall): each transport takes its own port. Both driven
 * directly on mediasoup in this process, with werift peers completing real
 * ICE and DTLS on every transport.
 */
import * as mediasoup from 'mediasoup';
import { MediaPeer } from '../clients/MediaPeer.js';
import { offerToIceLite } from '../clients/negotiate.js';
import { freePortRange } from '../../src/util/ports.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult, SummaryRow } from '../lib/types.js';

type Mode = 'webrtc-server' | 'port-range';
type Point = { mode: Mode; peers: number; transports: number; portsInUse: number; connected: number; connectMs: number; clientCpuPct: number };
type ModeResult = { mode: Mode; points: Point[]; maxPeers: number; stoppedBy: string; error?: string };

/** A bench peer holds a send and a recv transport, as a Parley participant does. */
const TRANSPORTS_PER_PEER = 2;

export const scenario: Scenario = {
  name: 'ports',
  title: 'UDP ports needed vs peers: one WebRtcServer port per worker vs a port per transport',
  description: [
    'Each peer opens two WebRtcTransports (send and recv, as a Parley participant does) on one mediasoup worker, and a',
    'werift peer connection completes ICE and DTLS on each. Peers are added in steps; after each step the bench counts',
    'the distinct local UDP ports of the transports\' selected ICE tuples (ports actually carrying a connection) and how',
    'many transports are connected. (a) webrtc-server: one WebRtcServer, one UDP port; ramped until connections fail,',
    'the client side saturates or max-peers. (b) port-range: rtcMinPort..rtcMaxPort (range-ports wide, on free ports),',
    'listenIps per transport; ramped until the range is exhausted, and the error mediasoup gives is reported.',
  ].join('\n'),
  options: [
    { name: 'max-peers', type: 'number', default: 1000, smoke: 4, help: 'stop mode (a) at this many peers' },
    { name: 'step', type: 'number', default: 100, smoke: 2, help: 'peers added per step' },
    { name: 'range-ports', type: 'number', default: 20, smoke: 4, help: 'port-range width in mode (b) (the previous system opened 20 in its firewall)' },
    { name: 'connect-timeout-ms', type: 'number', default: 15_000, help: 'a transport not connected after this long counts as failed' },
  ],
  async run(ctx, o) {
    const a = await runMode(ctx, 'webrtc-server', o);
    const b = await runMode(ctx, 'port-range', o);
    return report([a, b], o);
  },
};

async function runMode(ctx: RunContext, mode: Mode, o: OptionValues): Promise<ModeResult> {
  const rangePorts = Number(o['range-ports']);
  const base = await freePortRange(mode === 'port-range' ? rangePorts : 1);
  const worker = await mediasoup.createWorker({ logLevel: 'error', rtcMinPort: base, rtcMaxPort: base + Math.max(rangePorts, 1) - 1 });
  ctx.defer(() => worker.close());
  const router = await worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
  const server = mode === 'webrtc-server' ? await worker.createWebRtcServer({ listenInfos: [{ protocol: 'udp', ip: '127.0.0.1', port: base }] }) : null;
  const transports: mediasoup.types.WebRtcTransport[] = [];
  const peers: MediaPeer[] = [];
  const closeAll = async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    for (const t of transports.splice(0)) t.close();
  };
  ctx.defer(closeAll);
  const maxPeers = mode === 'webrtc-server' ? Number(o['max-peers']) : Number.POSITIVE_INFINITY;
  const step = Number(o.step);
  const points: Point[] = [];
  let stoppedBy = `max-peers (${o['max-peers']}) reached`;
  let error: string | undefined;
  let peerCount = 0;
  try {
    while (peerCount < maxPeers) {
      const add = mode === 'port-range' ? 1 : Math.min(step, maxPeers - peerCount);
      ctx.progress(peerCount, Number.isFinite(maxPeers) ? maxPeers : rangePorts / TRANSPORTS_PER_PEER + 1, `${mode}: ${peerCount + add} peers`);
      const cpu = process.cpuUsage();
      const began = performance.now();
      let created: mediasoup.types.WebRtcTransport[];
      try {
        created = await createTransports(router, server, add * TRANSPORTS_PER_PEER);
      } catch (err) {
        error = err instanceof Error ? err.message : String(err);
        stoppedBy = `transport creation failed at peer ${peerCount + 1}`;
        break;
      }
      transports.push(...created);
      const results = await connectBatch(created, peers, Number(o['connect-timeout-ms']));
      const elapsed = performance.now() - began;
      const used = process.cpuUsage(cpu);
      peerCount += add;
      // Still up, all of them: DTLS connected and ICE not timed out (werift keeps sending consent checks).
      const connected = transports.filter((t) => t.dtlsState === 'connected' && (t.iceState === 'connected' || t.iceState === 'completed')).length;
      const ports = new Set(transports.filter((t) => t.iceSelectedTuple).map((t) => t.iceSelectedTuple!.localPort));
      points.push({ mode, peers: peerCount, transports: transports.length, portsInUse: ports.size, connected, connectMs: Math.round(elapsed), clientCpuPct: Math.round(((used.user + used.system) / 1000 / elapsed) * 100) });
      const failed = results.filter((r) => r !== null);
      if (failed.length > 0) {
        stoppedBy = `${failed.length} transport(s) failed to connect at ${peerCount} peers: ${failed[0]}`;
        break;
      }
    }
  } finally {
    await closeAll();
    worker.close();
  }
  const ok = points.filter((p) => p.connected === p.transports);
  ctx.log(`${mode}: ${stoppedBy}${error ? ` (${error})` : ''}`);
  return { mode, points, maxPeers: ok.length ? ok[ok.length - 1]!.peers : 0, stoppedBy, error };
}

async function createTransports(router: mediasoup.types.Router, server: mediasoup.types.WebRtcServer | null, count: number): Promise<mediasoup.types.WebRtcTransport[]> {
  const out: mediasoup.types.WebRtcTransport[] = [];
  try {
    for (let i = 0; i < count; i++) {
      out.push(
        server
          ? await router.createWebRtcTransport({ webRtcServer: server, enableUdp: true, enableTcp: false })
          : await router.createWebRtcTransport({ listenIps: [{ ip: '127.0.0.1' }], enableUdp: true, enableTcp: false }),
      );
    }
    return out;
  } catch (err) {
    for (const t of out) t.close();
    throw err;
  }
}

/** Connects every transport with its own werift peer, 10 at a time; null = connected, else the failure. */
async function connectBatch(transports: mediasoup.types.WebRtcTransport[], peers: MediaPeer[], timeoutMs: number): Promise<Array<string | null>> {
  const results: Array<string | null> = [];
  for (let i = 0; i < transports.length; i += 10) {
    const batch = transports.slice(i, i + 10).map(async (transport) => {
      const peer = new MediaPeer();
      peers.push(peer);
      try {
        await offerToIceLite(peer, transport, (dtlsParameters) => transport.connect({ dtlsParameters }));
        await peer.connected(timeoutMs);
        await serverConnected(transport, timeoutMs);
        return null;
      } catch (err) {
        return err instanceof Error ? err.message : String(err);
      }
    });
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

/** Waits until mediasoup itself reports the DTLS session connected (its state follows the client's by a notification). */
async function serverConnected(transport: mediasoup.types.WebRtcTransport, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (transport.dtlsState !== 'connected') {
    if (transport.dtlsState === 'failed' || transport.dtlsState === 'closed') throw new Error(`mediasoup DTLS ${transport.dtlsState}`);
    if (performance.now() > deadline) throw new Error(`mediasoup DTLS still ${transport.dtlsState} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function report(modes: ModeResult[], o: OptionValues): ScenarioResult {
  const summary: SummaryRow[] = modes.flatMap((m) =>
    m.points.map((p) => ({ mode: m.mode, peers: p.peers, transports: p.transports, 'UDP ports in use': p.portsInUse, connected: p.connected, 'step connect ms': p.connectMs, 'client CPU %': p.clientCpuPct })),
  );
  const [a, b] = modes as [ModeResult, ModeResult];
  const aLast = a.points[a.points.length - 1];
  const figures: Record<string, number> = {
    webrtc_server_max_peers_per_port: a.maxPeers,
    webrtc_server_ports_used: aLast?.portsInUse ?? 0,
    port_range_max_peers: b.maxPeers,
    port_range_ports_per_peer: TRANSPORTS_PER_PEER,
  };
  return {
    summary,
    figures,
    samples: modes,
    notes: [
      `(a) webrtc-server: ${a.maxPeers} peers (${a.maxPeers * TRANSPORTS_PER_PEER} transports) connected on ${aLast?.portsInUse ?? 0} UDP port; stopped: ${a.stoppedBy}.`,
      `(b) port-range (${o['range-ports']} ports): ${b.maxPeers} peers connected, ${TRANSPORTS_PER_PEER} ports per peer; stopped: ${b.stoppedBy}${b.error ? `; mediasoup said: "${b.error}"` : ''}.`,
      `Previous system: 40000-40100 configured = 101 ports = ${Math.floor(101 / TRANSPORTS_PER_PEER)} peers at most; 40000-40019 open in its firewall = ${Math.floor(20 / TRANSPORTS_PER_PEER)} peers before ICE fails through the firewall.`,
      'Ports are counted from the transports\' selected ICE tuples (local port), i.e. ports that carry a connected ICE/DTLS session; UDP only (TCP candidates disabled in both modes).',
      'The per-port ceiling in (a) is not a mediasoup limit (it demultiplexes by ICE ufrag and remote address); what stops the ramp here is the client side (one werift peer connection and socket per transport in this process) or max-peers.',
    ],
    environment: { transportsPerPeer: TRANSPORTS_PER_PEER, listenIp: '127.0.0.1' },
    plots: [
      {
        id: 'ports',
        title: 'UDP ports needed vs peers',
        kind: 'line',
        xLabel: 'peers',
        yLabel: 'UDP ports in use',
        series: modes.map((m) => ({ name: m.mode, points: m.points.map((p) => [p.peers, p.portsInUse] as [number, number]) })),
        marks: [
          { label: 'previous firewall: 20 open', y: 20 },
          { label: 'previous config: 101', y: 101 },
        ],
      },
    ],
  };
}
