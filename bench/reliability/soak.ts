/**
 * soak: peers in several rooms across replicas for a long time, with listeners joining and
 * leaving and one speaker per room going through the AI pipeline; resource use sampled over
 * time (trend per hour after warm-up), errors counted, translation latency drift.
 * See bench/reliability/README.md.
 */
import { speechWithPauses } from '../../src/devkit/media.js';
import { sleep, startBrowser } from '../lib/stack.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult } from '../lib/types.js';
import { Cluster, type Member } from './lib/cluster.js';
import { installMonitor, markGaps } from './lib/hearing.js';
import { awaitClean, readViews } from './lib/recovery.js';
import { createRng } from './lib/rng.js';
import { keyFamilies, takeSample, type Sample } from './lib/sampler.js';
import { soakResult, type SoakErrors } from './lib/soakReport.js';

/** A member joined this long ago must hear its room's speaker (ms). */
const SETTLE_MS = 8000;
/** Hearing means audio within this long (ms). */
const HEAR_MS = 2000;

type Joined = { member: Member; joinedAt: number; leaveAt: number | null };

async function run(ctx: RunContext, o: OptionValues): Promise<ScenarioResult> {
  const rng = createRng(Number(o.seed));
  const nRooms = Number(o.rooms);
  const nReplicas = Number(o.replicas);
  const durationMs = Number(o['duration-s']) * 1000;
  const errors: SoakErrors = { joins: [], leaves: [], audio: [], samples: [], invariants: [], logs: [], pages: [] };
  const browser = await startBrowser(ctx, { fakeAudioWav: speechWithPauses() });
  const cluster = await Cluster.start(ctx, browser, {
    prefix: 'soak',
    tokens: 'dev',
    env: { PARLEY_LOG_LEVEL: 'warn', PARLEY_CLUSTER_HEARTBEAT_MS: '1000', PARLEY_CLUSTER_STALE_AFTER_MS: '5000' },
  });
  for (let i = 0; i < nReplicas; i++) await cluster.addReplica();
  for (let i = 0; i < Number(o['ai-workers']); i++) await cluster.addAiWorker();
  const joined: Joined[] = [];
  const join = async (replicaIndex: number, spec: Parameters<Cluster['join']>[1], stayMs: number | null) => {
    try {
      const member = await cluster.join(cluster.replicas[replicaIndex % nReplicas]!, spec);
      await installMonitor(member.page);
      await markGaps(member.page);
      joined.push({ member, joinedAt: Date.now(), leaveAt: stayMs === null ? null : Date.now() + stayMs });
    } catch (err) {
      errors.joins.push(`${spec.name} into ${spec.roomId}: ${(err as Error).message.split('\n')[0]}`);
    }
  };
  const leave = async (j: Joined) => {
    joined.splice(joined.indexOf(j), 1);
    await cluster.leave(j.member).catch((err: Error) => errors.leaves.push(`${j.member.name}: ${err.message.split('\n')[0]}`));
  };
  // Per room: an English speaker and a listener on the other replica, in Spanish in the first --translated-rooms
  // (their speaker goes through the pipeline), in English in the others (audio only).
  for (let r = 0; r < nRooms; r++) {
    const listening = r < Number(o['translated-rooms']) ? 'es' : 'en';
    ctx.progress(r, nRooms, `room ${r + 1}/${nRooms}: speaker and listener (${listening}) join`);
    await join(r, { roomId: `soak-${r}`, name: `S${r}`, spoken: 'en', listening: 'en' }, null);
    await join(r + 1, { roomId: `soak-${r}`, name: `L${r}`, spoken: 'en', listening, role: 'listener' }, null);
  }

  const samples: Sample[] = [];
  const peersOverTime: Array<[number, number]> = [];
  const t0 = Date.now();
  let nextSample = t0;
  let nextChurn = t0 + Number(o['churn-every-s']) * 1000;
  let churned = 0;
  while (Date.now() - t0 < durationMs) {
    const now = Date.now();
    const t = (now - t0) / 1000;
    ctx.progress(Math.min(now - t0, durationMs), durationMs, `soak: ${Math.round(t)} s, ${cluster.members.length} peers, ${churned} churn joins`);
    if (now >= nextSample) {
      nextSample += Number(o['sample-every-s']) * 1000;
      try {
        samples.push(await takeSample(cluster, t));
      } catch (err) {
        errors.samples.push(`at ${Math.round(t)} s: ${(err as Error).message}`);
      }
      peersOverTime.push([t, cluster.members.length]);
      const views = await readViews(cluster);
      for (const j of joined) {
        if (now - j.joinedAt < SETTLE_MS) continue;
        const v = views.get(j.member)!;
        for (const s of cluster.speakersFor(j.member)) {
          // Missing audio is counted in packets, so a sampler the loaded machine ran late is not silence.
          const missing = v.lastHeard[s.peerId] === undefined ? undefined : v.missingMs[s.peerId];
          if (v.state !== 'connected' || missing === undefined || missing > HEAR_MS) errors.audio.push(`at ${Math.round(t)} s ${j.member.name} (${v.state}) heard nothing from ${s.name} for ${missing === undefined ? 'ever' : `${Math.round(missing)} ms`}`);
        }
      }
    }
    for (const j of joined.filter((x) => x.leaveAt !== null && x.leaveAt <= now)) await leave(j);
    if (now >= nextChurn) {
      nextChurn += Number(o['churn-every-s']) * 1000;
      if (joined.filter((j) => j.leaveAt !== null).length < Number(o['churn-max'])) {
        churned += 1;
        const room = rng.int(0, nRooms - 1);
        await join(rng.int(0, nReplicas - 1), { roomId: `soak-${room}`, name: `T${churned}`, spoken: 'en', listening: 'en', role: 'listener' }, Number(o['churn-stay-s']) * 1000);
      }
    }
    await sleep(ctx, 250);
  }
  for (const j of joined.filter((x) => x.leaveAt !== null)) await leave(j);
  ctx.progress(durationMs, durationMs, 'checking the invariants after the soak');
  const views = await readViews(cluster);
  const gaps = [...views].map(([m, v]) => ({ page: m.name, longestGapMs: Math.max(0, ...cluster.speakersFor(m).map((s) => v.longestGapMs[s.peerId] ?? 0)) }));
  const families = await keyFamilies(cluster).catch(() => []);
  const clean = await awaitClean(cluster, Number(o['cleanup-window-ms']), 20_000);
  errors.invariants.push(...clean.violations);
  errors.logs.push(...cluster.errorLines().map((e) => `${e.process}: ${e.line.slice(0, 300)}`));
  errors.pages.push(...browser.logs.filter((l) => l.startsWith('[error]') || l.startsWith('[pageerror]')));
  const failed = Object.values(errors).some((list) => list.length > 0);
  return soakResult({ samples, peersOverTime, errors, gaps, churned, families, options: o, logs: failed ? cluster.dumpLogs('soak') : null });
}

export const scenario: Scenario = {
  name: 'soak',
  title: 'Soak: peers in several rooms across replicas for a long time, listeners joining and leaving, speech through the AI pipeline; resource trend, errors, latency drift',
  description: `--replicas \`parley up\` children, --ai-workers \`parley ai-worker\` children and Redis; --rooms rooms, each with
an English speaker (Chromium fake microphone: the LibriVox clip with pauses) and a listener on another
replica (the speech crosses a pipe). In the first --translated-rooms rooms that listener listens in Spanish, so
the speaker's speech is recognized, translated and spoken through the pipeline; the default of 1 is what one
AI worker keeps up with on 2 cores shared with the cluster and Chromium (with 3, nearly every utterance is
dropped for age). Every --churn-every-s a transient listener joins a random room on a random replica and leaves after
--churn-stay-s (at most --churn-max at once). Runs --duration-s.
Every --sample-every-s: each replica's /metrics (resident memory, heap used, active handles, peers, transports,
pipes, end-to-end translation latency counters), the mediasoup and AI workers' resident memory (/proc),
Redis used memory and key count; and every page that joined over ${SETTLE_MS / 1000} s ago must have heard its room's
speaker within ${HEAR_MS} ms. Trends are least-squares slopes per hour over the samples after --warmup-s; latency
drift is the slope of the mean end-to-end latency per sample interval.
Errors: failed joins and leaves, pages not hearing their speaker, failed samples, error-level log lines of
replicas and AI workers, page errors, and invariant breaches (bench/reliability/lib/invariants.ts) once the
transients have left.`,
  options: [
    { name: 'duration-s', type: 'number', default: 1800, smoke: 75, help: 'length of the soak (s)' },
    { name: 'rooms', type: 'number', default: 3, smoke: 2, help: 'rooms (speaker + listener each)' },
    { name: 'translated-rooms', type: 'number', default: 1, help: 'rooms whose listener listens in Spanish (speech through the AI pipeline)' },
    { name: 'replicas', type: 'number', default: 2, help: 'gateway replicas' },
    { name: 'ai-workers', type: 'number', default: 1, help: 'AI workers' },
    { name: 'churn-every-s', type: 'number', default: 20, smoke: 10, help: 'a transient listener joins this often (s)' },
    { name: 'churn-stay-s', type: 'number', default: 30, smoke: 15, help: 'how long a transient listener stays (s)' },
    { name: 'churn-max', type: 'number', default: 2, help: 'transient listeners at once, at most' },
    { name: 'sample-every-s', type: 'number', default: 15, smoke: 5, help: 'sampling period (s)' },
    { name: 'warmup-s', type: 'number', default: 60, smoke: 15, help: 'samples before this are left out of the trends (s)' },
    { name: 'cleanup-window-ms', type: 'number', default: 20000, help: 'time the invariants have to hold after the last transient left (ms)' },
    { name: 'seed', type: 'number', default: 11, help: 'seed of the churn (rooms and replicas picked)' },
  ],
  run,
};
