/**
 * join: how long a new participant waits for the first remote audio, from
 * opening its WebSocket to the first RTP packet of a publisher already in the
 * room: Parley on one replica, Parley across two replicas, and Janus VideoRoom,
 * interleaved in the same run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { createJanusRoom, JanusClient } from '../clients/JanusClient.js';
import { Pacer } from '../clients/opusSource.js';
import { ParleyClient } from '../clients/ParleyClient.js';
import type { BenchClient } from '../clients/pool-protocol.js';
import { joinsCounted } from '../clients/remoteMetrics.js';
import { startJanusTarget, startParley } from '../clients/targets.js';
import { localAddressFor, mintToken, TargetBudget, TargetError, TargetErrors, tokenSource } from '../lib/remote.js';
import { figuresOf, summarize, summaryRow } from '../lib/stats.js';
import type { RunContext, Scenario, ScenarioResult, Series } from '../lib/types.js';

type Target = 'single' | 'cross' | 'janus';
type Sample = { target: Target; index: number; warmup: boolean; totalMs: number; wsOpenMs: number; joinedMs: number; error?: string };
type Joiner = { join: (identity: string) => Promise<BenchClient>; publisher: BenchClient };

const LABEL: Record<Target, string> = {
  single: 'Parley, same replica as the publisher',
  cross: 'Parley, other replica than the publisher',
  janus: 'Janus VideoRoom',
};

export const scenario: Scenario = {
  name: 'join',
  title: 'WebSocket open -> first remote audio for a new peer: Parley single replica, cross-replica, and Janus, same run',
  description: [
    'A publisher (werift, real Opus at 50 packets/s) is already in the room. A new peer then joins and subscribes:',
    'the clock starts just before its WebSocket is opened and stops when its first RTP packet from the publisher is',
    'decrypted (werift). Parley: join (token), createTransport recv, consume, connectTransport, resumeConsumer; "single"',
    'joins the publisher\'s replica, "cross" the other of two replicas (media through a PipeTransport). Janus: create',
    'session, attach VideoRoom, listparticipants, join as subscriber, answer, start. Targets take turns within each',
    'round; the first rounds are warm-up and excluded. Each joiner leaves before the next.',
  ].join('\n'),
  options: [
    { name: 'joins', type: 'number', default: 40, smoke: 3, help: 'measured joins per target' },
    { name: 'warmup', type: 'number', default: 3, smoke: 1, help: 'joins per target excluded as warm-up' },
    { name: 'targets', type: 'list', default: ['single', 'cross', 'janus'], help: 'single, cross, janus' },
    { name: 'timeout-ms', type: 'number', default: 10_000, help: 'a join with no audio after this long counts as failed' },
  ],
  remote: {
    unavailable: [
      'the Janus comparison (janus: Janus is started on this machine, not in the deployment)',
      'cross-replica joins with a single --target URL (cross needs the publisher on the first URL and joiners on the second)',
    ],
  },
  async run(outer, o) {
    const asked = (o.targets as string[]).map(String) as Target[];
    for (const t of asked) if (!(t in LABEL)) throw new TypeError(`--targets: unknown target "${t}" (single, cross, janus)`);
    const budget = outer.target ? new TargetBudget(outer.target) : null;
    const ctx = budget ? budget.scope(outer) : outer;
    const targets = budget ? remoteTargets(asked, budget) : asked;
    const joinsBefore = budget ? await countJoins(budget, targets) : null;
    const joiners = budget ? await setUpRemote(ctx, budget, targets) : await setUp(ctx, targets);
    const rounds = Number(o.warmup) + Number(o.joins);
    const samples: Sample[] = [];
    const failuresInARow = new Map<Target, number>();
    let active = [...targets];
    for (let round = 0; round < rounds && active.length > 0 && !budget?.expired('join'); round++) {
      ctx.progress(round, rounds, `round ${round + 1}/${rounds}`);
      for (const target of active) {
        const sample = await measure(joiners[target]!, target, round, round < Number(o.warmup), Number(o['timeout-ms']));
        samples.push(sample);
        failuresInARow.set(target, sample.error ? (failuresInARow.get(target) ?? 0) + 1 : 0);
        await sleep(100, undefined, { signal: ctx.signal });
      }
      // Three failures in a row: the target is broken (not slow); stop measuring it rather than time out every round.
      const broken = active.filter((t) => (failuresInARow.get(t) ?? 0) >= 3);
      for (const t of broken) ctx.log(`${t}: 3 joins in a row failed, no more rounds for it`);
      active = active.filter((t) => !broken.includes(t));
    }
    ctx.progress(rounds, rounds, 'done');
    const result = report(samples, targets);
    return budget && joinsBefore ? remoteReport(result, budget, targets, joinsBefore, await countJoins(budget, targets)) : result;
  },
};

/** The URL each target's joiners use on a deployment: single = the first, cross = the second. */
const urlOf = (budget: TargetBudget, target: Target) => budget.target.urls[target === 'cross' ? 1 : 0]!;

/** The targets a deployment can be measured on: no Janus; cross only with two URLs. */
function remoteTargets(asked: Target[], budget: TargetBudget): Target[] {
  const out = asked.filter((t) => t === 'single' || (t === 'cross' && budget.target.urls.length >= 2));
  if (asked.includes('janus')) budget.notes.push('janus: skipped, the Janus comparison runs only against a Janus this machine starts (no --target).');
  if (asked.includes('cross') && !out.includes('cross')) budget.notes.push('cross: skipped, it needs two --target URLs (the publisher on the first, joiners on the second).');
  if (out.length === 0) throw new TargetError(TargetErrors.UNSUPPORTED, `join: none of --targets ${asked.join(',')} can run against --target (single, and cross with two URLs)`);
  return out;
}

/** New joins each measured URL counted, from its /metrics (null where not readable). */
async function countJoins(budget: TargetBudget, targets: Target[]): Promise<Record<string, number | null>> {
  const urls = [...new Set(targets.map((t) => urlOf(budget, t)))];
  return Object.fromEntries(await Promise.all(urls.map(async (u) => [u, await joinsCounted(budget.target, u)] as const)));
}

/** A publisher on the deployment's first URL and the joiners' factories, with tokens minted for a room of this run. */
async function setUpRemote(ctx: RunContext, budget: TargetBudget, targets: Target[]): Promise<Partial<Record<Target, Joiner>>> {
  budget.clients(2, 'join (the publisher and one joiner at a time)');
  const target = budget.target;
  const pacer = new Pacer();
  ctx.defer(() => pacer.stop());
  const host = await localAddressFor(target.urls[0]!);
  const roomId = `bench-join-${Date.now().toString(36)}`;
  // The token is minted before ParleyClient.join starts its clock: the token endpoint is not part of the join.
  const join = async (url: string, identity: string, media: { publish?: Pacer; subscribe?: boolean }) =>
    ParleyClient.join({ baseUrl: url, roomId, identity, token: await mintToken(target, { room: roomId, identity }), host, ...media });
  const publisher = await join(target.urls[0]!, 'publisher', { publish: pacer });
  ctx.defer(() => publisher.close());
  const joiners: Partial<Record<Target, Joiner>> = {};
  for (const t of targets) joiners[t] = { publisher, join: (identity) => join(urlOf(budget, t), identity, { subscribe: true }) };
  await sleep(500, undefined, { signal: ctx.signal });
  return joiners;
}

function remoteReport(result: ScenarioResult, budget: TargetBudget, targets: Target[], before: Record<string, number | null>, after: Record<string, number | null>): ScenarioResult {
  const counted = Object.fromEntries(Object.keys(after).map((u) => [u, after[u] !== null && before[u] !== null ? after[u]! - before[u]! : null]));
  const readable = Object.values(counted).every((n) => n !== null);
  return {
    ...result,
    notes: [
      ...budget.notes,
      `Measured from this machine against ${targets.map((t) => `${t} = ${urlOf(budget, t)}`).join(', ')}: the clock includes the network between here and the deployment; join tokens ${tokenSource(budget.target)}, minted before each clock starts.`,
      readable
        ? `The deployment counted ${Object.entries(counted).map(([u, n]) => `${n} new join(s) on ${u}`).join(', ')} during the run (parley_joins_total; other traffic on it counts too).`
        : "The deployment's join counters were not read (/metrics not readable: no --metrics-token, or refused).",
      'Noisy neighbour: only the clients (werift, in the bench process) run on this machine; the deployment\'s other traffic and the network path move the tail (p95) most.',
      ...result.notes.filter((n) => !n.startsWith('Janus and mediasoup') && !n.startsWith('Noisy neighbour')),
    ],
    environment: { ...result.environment, deploymentJoins: counted },
  };
}

async function setUp(ctx: RunContext, targets: Target[]): Promise<Partial<Record<Target, Joiner>>> {
  const pacer = new Pacer();
  ctx.defer(() => pacer.stop());
  const joiners: Partial<Record<Target, Joiner>> = {};
  const close = (c: BenchClient) => ctx.defer(() => c.close());
  if (targets.includes('single') || targets.includes('cross')) {
    const replicas = targets.includes('cross') ? 2 : 1;
    const parley = await startParley(ctx, replicas);
    const roomId = 'join-bench';
    const publisher = await ParleyClient.join({ baseUrl: parley.urls[0]!, roomId, identity: 'publisher', publish: pacer });
    close(publisher);
    const on = (url: string): Joiner => ({ publisher, join: (identity) => ParleyClient.join({ baseUrl: url, roomId, identity, subscribe: true }) });
    joiners.single = on(parley.urls[0]!);
    if (replicas === 2) joiners.cross = on(parley.urls[1]!);
  }
  if (targets.includes('janus')) {
    const janus = await startJanusTarget(ctx);
    const room = 2000 + Math.floor(Math.random() * 1e6);
    await createJanusRoom(janus.wsUrl, room);
    const publisher = await JanusClient.join({ wsUrl: janus.wsUrl, host: janus.host, room, identity: 'publisher', publish: pacer });
    close(publisher);
    joiners.janus = { publisher, join: (identity) => JanusClient.join({ wsUrl: janus.wsUrl, host: janus.host, room, identity, subscribe: true }) };
  }
  // Let the publishers' streams settle before the first join.
  await sleep(500, undefined, { signal: ctx.signal });
  return joiners;
}

async function measure(joiner: Joiner, target: Target, index: number, warmup: boolean, timeoutMs: number): Promise<Sample> {
  let client: BenchClient | null = null;
  try {
    client = await joiner.join(`joiner-${target}-${index}`);
    if (!client.recvPeer) throw new Error('the joiner found no audio producer in the room');
    const first = await client.recvPeer.firstPacket(timeoutMs);
    const t = client.times;
    return { target, index, warmup, totalMs: first - t.start, wsOpenMs: t.wsOpen - t.start, joinedMs: t.joined - t.start };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const publisher = joiner.publisher.sendPeer?.pc.connectionState ?? 'none';
    return { target, index, warmup, totalMs: Number.NaN, wsOpenMs: Number.NaN, joinedMs: Number.NaN, error: `${message} (publisher's peer connection: ${publisher})` };
  } finally {
    await client?.close().catch(() => undefined);
  }
}

function report(samples: Sample[], targets: Target[]) {
  const measured = samples.filter((s) => !s.warmup);
  const figures: Record<string, number> = {};
  const summary = targets.map((target) => {
    const mine = measured.filter((s) => s.target === target);
    const total = summarize(mine.map((s) => s.totalMs));
    const joined = summarize(mine.map((s) => s.joinedMs));
    Object.assign(figures, figuresOf(`join_${target}`, total));
    figures[`join_${target}_failures`] = mine.filter((s) => s.error).length;
    return { ...summaryRow({ target: LABEL[target] }, total), 'session/join p50': Number.isFinite(joined.p50) ? Math.round(joined.p50 * 10) / 10 : '-', failed: mine.filter((s) => s.error).length };
  });
  if (figures.join_single_p50_ms && figures.join_janus_p50_ms) figures.join_single_vs_janus_p50_ratio = Math.round((figures.join_single_p50_ms / figures.join_janus_p50_ms) * 100) / 100;
  const series: Series[] = targets.map((target) => ({ name: target, points: measured.filter((s) => s.target === target && !s.error).map((s) => [s.index, Math.round(s.totalMs * 10) / 10] as [number, number]) }));
  const errors = [...new Set(measured.filter((s) => s.error).map((s) => `${s.target}: ${s.error}`))];
  return {
    summary,
    figures,
    samples,
    plots: [{ id: 'samples', title: 'WebSocket open -> first remote audio packet, per join', kind: 'scatter' as const, xLabel: 'join (round)', yLabel: 'ms', series }],
    notes: [
      'Clock: starts just before the joiner\'s WebSocket is created (so TCP connect and the upgrade are included), stops at the first decrypted RTP packet from the publisher (werift, same process).',
      '"session/join p50": time to the join response (Parley) or the created session (Janus), the signaling share of the total.',
      `Warm-up: the first ${samples.filter((s) => s.warmup).length / targets.length} round(s) per target are excluded; targets take turns within each round so a noisy moment hits all of them.`,
      'Noisy neighbour: clients, SFUs, Redis and other work share this machine\'s cores; single runs on a busy machine move the tail (p95) most.',
      'Janus and mediasoup both run ICE-lite here; werift is the ICE controlling agent and DTLS client against both.',
      ...errors.slice(0, 5).map((e) => `failed join: ${e}`),
    ],
    environment: { targets, replicas: targets.includes('cross') ? 2 : 1 },
  };
}
