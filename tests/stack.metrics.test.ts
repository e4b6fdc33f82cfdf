/**
 * Every metric that stack/ alerts and dashboards use is exported by the real
 * processes: a gateway (`parley up`) and an AI worker (`parley ai-worker
 * --metrics-port`) run against a real Redis, their /metrics are scraped, and
 * each metric name in the rules and the dashboards' queries must be there.
 * Also: the UDP port budget gauges follow real mediasoup transports.
 */
import type { ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Gateway } from '../src/app/gateway.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { freeTcpPort } from '../src/util/ports.js';
import { dashboardQueries } from '../stack/check/dashboards.js';
import { exportedMetrics, isExported, metricNames } from '../stack/check/promql.js';
import { spawnAiWorker, spawnGateway, startTestGateway, type GatewayProcess } from '../src/devkit/gateway.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** `parley ai-worker` with its metrics server; resolves with its port once it serves jobs. */
async function spawnAiWorkerWithMetrics(redisUrl: string): Promise<{ child: ChildProcess; port: number; stop(): Promise<void> }> {
  const port = await freeTcpPort();
  const worker = await spawnAiWorker(redisUrl, {}, ['--metrics-port', String(port)]);
  return { child: worker.child, port, stop: () => worker.stop() };
}

async function scrape(url: string): Promise<string> {
  const res = await fetch(url);
  expect(res.status, `GET ${url}`).toBe(200);
  return res.text();
}

/** Every PromQL expression stack/ ships, with where it comes from. */
function shippedExpressions(): Array<{ where: string; expr: string }> {
  const out: Array<{ where: string; expr: string }> = [];
  const rules = parse(readFileSync(join(ROOT, 'stack/prometheus/rules/parley.rules.yml'), 'utf8')) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  for (const r of rules.groups.flatMap((g) => g.rules)) out.push({ where: `alert ${r.alert}`, expr: r.expr });
  const dir = join(ROOT, 'stack/grafana/dashboards');
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    for (const q of dashboardQueries(JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>)) out.push({ where: `${q.dashboard}: ${q.where}`, expr: q.expr });
  }
  return out;
}

describe('metrics named by alerts and dashboards are exported', () => {
  let redis: EmbeddedRedis;
  let gateway: GatewayProcess | undefined;
  let worker: Awaited<ReturnType<typeof spawnAiWorkerWithMetrics>> | undefined;

  beforeAll(async () => {
    redis = await EmbeddedRedis.start();
    gateway = await spawnGateway(redis.url, { replicaId: 'stack-metrics' });
    worker = await spawnAiWorkerWithMetrics(redis.url);
  }, 120_000);

  afterAll(async () => {
    await worker?.stop();
    await gateway?.stop();
    await redis?.stop();
  }, 60_000);

  it('by a running gateway or AI worker', async () => {
    const exported = new Map([
      ...exportedMetrics(await scrape(`${gateway!.url}/metrics`)),
      ...exportedMetrics(await scrape(`http://127.0.0.1:${worker!.port}/metrics`)),
    ]);
    // The comparison can fail: an unknown name is not exported, histogram series resolve to their histogram.
    expect(isExported('parley_not_a_metric', exported)).toBe(false);
    expect(isExported('parley_ai_end_to_end_seconds_bucket', exported)).toBe(true);
    expect(isExported('parley_rooms_bucket', exported)).toBe(false);
    const expressions = shippedExpressions();
    expect(expressions.length).toBeGreaterThan(40);
    const missing: string[] = [];
    for (const { where, expr } of expressions) {
      const names = metricNames(expr);
      if (names.length === 0) missing.push(`${where}: no metric found in "${expr}"`);
      for (const name of names) if (!isExported(name, exported)) missing.push(`${where}: ${name}`);
    }
    expect(missing).toEqual([]);
  });

  it('the gateway reports its UDP port budget (rtc: WebRtcServer ports; pipe: media.pipePortMin..Max)', async () => {
    const text = await scrape(`${gateway!.url}/metrics`);
    expect(text).toMatch(/^parley_udp_ports_capacity\{kind="pipe",replica="stack-metrics"\} 1000$/m);
    expect(text).toMatch(/^parley_udp_ports_used\{kind="pipe",replica="stack-metrics"\} 0$/m);
    expect(text).toMatch(/^parley_udp_ports_used\{kind="rtc",replica="stack-metrics"\} 1$/m);
    expect(text).toMatch(/^parley_udp_ports_capacity\{kind="rtc",replica="stack-metrics"\} 1$/m);
  });
});

describe('UDP port budget follows real mediasoup transports', () => {
  let redis: EmbeddedRedis;
  let gateway: Gateway | undefined;

  beforeAll(async () => {
    redis = await EmbeddedRedis.start();
    gateway = await startTestGateway(redis.url, { media: { pipePortMin: 43000, pipePortMax: 43099 } });
  }, 60_000);

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
  }, 60_000);

  const pipeUsed = async () => Number(/^parley_udp_ports_used\{kind="pipe"[^}]*\} (\d+)$/m.exec(await gateway!.services.metrics.text())?.[1]);

  it('counts Pipe and Plain transports (each binds a port of the range), not WebRTC ones, and drops them when closed', async () => {
    expect(await gateway!.services.metrics.text()).toMatch(/^parley_udp_ports_capacity\{kind="pipe"[^}]*\} 100$/m);
    const slot = gateway!.services.pool.slots[0]!;
    const router = await slot.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    const pipe = await router.createPipeTransport({ listenIp: '127.0.0.1' });
    const plain = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true });
    const webrtc = await router.createWebRtcTransport({ webRtcServer: slot.webRtcServer });
    expect(pipe.tuple.localPort).toBeGreaterThanOrEqual(43000);
    expect(await pipeUsed()).toBe(2);
    pipe.close();
    expect(await pipeUsed()).toBe(1);
    router.close(); // closes the plain and WebRTC transports with it
    expect(plain.closed && webrtc.closed).toBe(true);
    expect(await pipeUsed()).toBe(0);
  });
});
