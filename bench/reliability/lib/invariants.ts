/**
 * The cluster invariants checked after each fault (and at the end of a soak), each
 * violation a sentence naming what is wrong:
 * - the replica registry, replica-owned keys and AI results queues name only live replicas;
 * - the room index and the room snapshots agree, and each room's membership in Redis is
 *   exactly the pages in that room, each on the replica its page is connected to;
 * - peer snapshots belong to a member of their room; each page's roster is its room;
 * - each replica's /metrics hosts as many peers as pages are connected to it, and holds
 *   exactly the pipes the rooms need (in from each other replica hosting a speaker of a room it hosts,
 *   out toward each other replica hosting a member of a room where it hosts a speaker);
 * - no BullMQ job sits in active longer than `stuckAfterMs`, nor in wait that long on a queue nobody consumes;
 * - the AI worker directory holds every live worker and no dead one past its reap time.
 */
import { Queue } from 'bullmq';
import { scanKeys, type RedisClient } from '../../../src/state/redisConnection.js';
import { PIPELINE_PREFIX, QueueNames } from '../../../src/ai/pipeline/names.js';
import { ENGINE_DIRECTORY_DEFAULTS } from '../../../src/ai/worker/EngineDirectory.js';
import { Keys, KEY_PREFIX } from '../../../src/state/keys.js';
import type { RoomPeer } from '../../../src/actors/room/machine.js';
import { metricValue } from '../../lib/metrics.js';
import type { Cluster, Member } from './cluster.js';
import type { PageView } from './hearing.js';

export type InvariantInput = { cluster: Cluster; views: Map<Member, PageView>; stuckAfterMs: number };

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const P = esc(KEY_PREFIX);
const ROOM_KEY = new RegExp(`^${P}:\\{room:(.+)\\}:room$`);
const PEER_KEY = new RegExp(`^${P}:\\{room:(.+)\\}:peer:(.+)$`);
const REPLICA_KEY = new RegExp(`^${P}:\\{replica:([^}]+)\\}:`);
const RESULTS_KEY = new RegExp(`^${esc(PIPELINE_PREFIX)}:\\{${esc(QueueNames.results('X').slice(0, -1))}([^}]+)\\}:`);

function allKeys(redis: RedisClient): Promise<string[]> {
  return scanKeys(redis, `${KEY_PREFIX}:*`, 1000);
}

function roomPeers(doc: string): Record<string, RoomPeer> {
  return (JSON.parse(doc) as { snapshot: { context: { peers: Record<string, RoomPeer> } } }).snapshot.context.peers;
}

/** Redis keys against the live replicas and the pages. */
async function checkKeys(i: InvariantInput, replicaOf: Map<Member, string | null>): Promise<string[]> {
  const { cluster } = i;
  const redis = cluster.admin;
  const live = new Set(cluster.replicas.map((r) => r.replicaId));
  const out: string[] = [];
  const registered = await redis.hkeys(Keys.replicas());
  for (const id of registered) if (!live.has(id)) out.push(`registry lists gone replica ${id}`);
  for (const id of live) if (!registered.includes(id)) out.push(`live replica ${id} missing from the registry`);

  const keys = await allKeys(redis);
  const rooms = new Set<string>();
  const peerKeys: Array<[string, string]> = [];
  for (const key of keys) {
    const owner = REPLICA_KEY.exec(key)?.[1] ?? RESULTS_KEY.exec(key)?.[1];
    if (owner !== undefined && !live.has(owner)) out.push(`key ${key} belongs to gone replica ${owner}`);
    const room = ROOM_KEY.exec(key)?.[1];
    if (room !== undefined) rooms.add(room);
    const peer = PEER_KEY.exec(key);
    if (peer) peerKeys.push([peer[1]!, peer[2]!]);
  }
  const index = new Set(await redis.smembers(Keys.roomIndex()));
  for (const r of rooms) if (!index.has(r)) out.push(`room ${r} has a snapshot but is not in the room index`);
  for (const r of index) if (!rooms.has(r)) out.push(`room index lists ${r}, which has no snapshot`);

  const memberRooms = new Set(cluster.members.map((m) => m.roomId));
  for (const r of memberRooms) if (!rooms.has(r)) out.push(`room ${r} has pages but no snapshot in Redis`);
  const peersByRoom = new Map<string, Record<string, RoomPeer>>();
  for (const r of rooms) {
    const doc = await redis.hget(Keys.room(r), 'doc');
    const peers = doc ? roomPeers(doc) : {};
    peersByRoom.set(r, peers);
    const members = cluster.members.filter((m) => m.roomId === r);
    for (const [id, p] of Object.entries(peers)) {
      const m = members.find((x) => x.peerId === id);
      if (!m) out.push(`room ${r} lists peer ${id} (on ${p.replicaId}) that no page holds`);
      else if (replicaOf.get(m) && p.replicaId !== replicaOf.get(m)) out.push(`room ${r}: peer ${m.name} is on ${replicaOf.get(m)} but Redis says ${p.replicaId}`);
      if (!live.has(p.replicaId)) out.push(`room ${r}: peer ${id} on gone replica ${p.replicaId}`);
      for (const prod of Object.values(p.producers)) if (!live.has(prod.replicaId)) out.push(`room ${r}: producer ${prod.producerId} on gone replica ${prod.replicaId}`);
      if (m?.speaks && Object.keys(p.producers).length === 0) out.push(`room ${r}: speaker ${m.name} has no producer in Redis`);
    }
    for (const m of members) if (!peers[m.peerId]) out.push(`room ${r}: page ${m.name} (${m.peerId}) missing from the room in Redis`);
  }
  for (const [r, id] of peerKeys) if (!peersByRoom.get(r)?.[id]) out.push(`peer snapshot ${id} of room ${r} belongs to no member of the room`);
  return out;
}

/** Each replica's /metrics against the pages connected to it. */
async function checkReplicas(i: InvariantInput, replicaOf: Map<Member, string | null>): Promise<string[]> {
  const out: string[] = [];
  const { cluster } = i;
  for (const r of cluster.replicas) {
    const text = await (await fetch(`${r.url}/metrics`, { signal: AbortSignal.timeout(10_000) })).text();
    const mine = cluster.members.filter((m) => replicaOf.get(m) === r.replicaId);
    const peers = metricValue(text, 'parley_peers');
    if (peers !== mine.length) out.push(`${r.replicaId} hosts ${peers} peers by /metrics, ${mine.length} pages are connected to it`);
    // Per room: an "in" pipe from each other replica hosting a speaker (our pages hear it), when we host
    // someone; an "out" pipe toward each other replica hosting anyone (they hear us), when we host a speaker.
    let expected = 0;
    for (const room of new Set(mine.map((m) => m.roomId))) {
      const elsewhere = cluster.members.filter((m) => m.roomId === room && replicaOf.get(m) && replicaOf.get(m) !== r.replicaId);
      const speakersElsewhere = new Set(elsewhere.filter((m) => m.speaks).map((m) => replicaOf.get(m)));
      const anyoneElsewhere = new Set(elsewhere.map((m) => replicaOf.get(m)));
      expected += speakersElsewhere.size + (mine.some((m) => m.roomId === room && m.speaks) ? anyoneElsewhere.size : 0);
    }
    const pipes = metricValue(text, 'parley_pipes_open');
    if (pipes !== expected) out.push(`${r.replicaId} has ${pipes} pipes open, its rooms need ${expected}`);
    if (metricValue(text, 'parley_worker_up') !== 1) out.push(`${r.replicaId}: mediasoup worker not up`);
  }
  return out;
}

/** Each page's roster against its room. */
function checkRosters(i: InvariantInput): string[] {
  const out: string[] = [];
  for (const [m, v] of i.views) {
    const want = i.cluster.members.filter((x) => x !== m && x.roomId === m.roomId).map((x) => x.peerId).sort();
    const have = [...v.roster].sort();
    if (want.join() !== have.join()) out.push(`${m.name}'s roster is [${have.join(', ')}], its room holds [${want.join(', ')}]`);
  }
  return out;
}

const queues = new WeakMap<Cluster, Map<string, Queue>>();

/** One BullMQ Queue per name and cluster, closed with the run. */
function queueOf(cluster: Cluster, name: string): Queue {
  let byName = queues.get(cluster);
  if (!byName) {
    const made = new Map<string, Queue>();
    byName = made;
    queues.set(cluster, made);
    cluster.ctx.defer(async () => {
      await Promise.all([...made.values()].map((q) => q.close().catch(() => undefined)));
    });
  }
  let q = byName.get(name);
  if (!q) {
    q = cluster.queue(name);
    byName.set(name, q);
  }
  return q;
}

/** BullMQ jobs held too long, and the AI worker directory. */
async function checkPipeline(i: InvariantInput): Promise<string[]> {
  const out: string[] = [];
  const now = Date.now();
  const names = [QueueNames.stt, QueueNames.translate, QueueNames.tts, ...i.cluster.replicas.map((r) => QueueNames.results(r.replicaId))];
  for (const name of names) {
    const q = queueOf(i.cluster, name);
    for (const job of await q.getActive()) {
      if (job.processedOn && now - job.processedOn > i.stuckAfterMs) out.push(`${name} job ${job.id} active for ${now - job.processedOn} ms`);
    }
    // A backlog behind a live consumer drains (the pipeline drops what is past ai.maxAgeMs); waiting
    // jobs are stuck only when nothing consumes the queue.
    const waiting = (await q.getWaiting()).filter((job) => now - job.timestamp > i.stuckAfterMs);
    if (waiting.length > 0 && (await q.getWorkersCount()) === 0) {
      for (const job of waiting) out.push(`${name} job ${job.id} waiting for ${now - job.timestamp} ms with no worker on the queue`);
    }
  }
  const entries = Object.values(await i.cluster.admin.hgetall(Keys.aiWorkers())).map((v) => JSON.parse(v) as { workerId: string; pid: number; heartbeatAt: number });
  const livePids = new Set(i.cluster.aiWorkers.map((w) => w.child.pid));
  for (const w of i.cluster.aiWorkers) if (!entries.some((e) => e.pid === w.child.pid)) out.push(`live AI worker pid ${w.child.pid} missing from the directory`);
  const reapBound = ENGINE_DIRECTORY_DEFAULTS.reapMs + 2 * ENGINE_DIRECTORY_DEFAULTS.heartbeatMs;
  for (const e of entries) if (!livePids.has(e.pid) && now - e.heartbeatAt > reapBound) out.push(`AI directory keeps dead worker ${e.workerId} (silent ${now - e.heartbeatAt} ms)`);
  return out;
}

/** Every violation found now (empty = the cluster is consistent). */
export async function checkInvariants(i: InvariantInput): Promise<string[]> {
  const replicaOf = new Map<Member, string | null>();
  const out: string[] = [];
  for (const [m, v] of i.views) {
    const r = i.cluster.replicaAt(v.url);
    replicaOf.set(m, r?.replicaId ?? null);
    if (v.state !== 'connected') out.push(`${m.name} is ${v.state}`);
    else if (!r) out.push(`${m.name} is connected to ${v.url}, which is no live replica`);
  }
  const parts = await Promise.all([
    checkKeys(i, replicaOf).catch((e: Error) => [`redis keys unreadable: ${e.message}`]),
    checkReplicas(i, replicaOf).catch((e: Error) => [`replica metrics unreadable: ${e.message}`]),
    checkPipeline(i).catch((e: Error) => [`pipeline queues unreadable: ${e.message}`]),
  ]);
  return [...out, ...parts.flat(), ...checkRosters(i)];
}
