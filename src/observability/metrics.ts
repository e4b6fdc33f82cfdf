import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Live values the gauges read at scrape time (observers, never business code). */
export type GatewayGaugeSource = {
  rooms(): number;
  peers(): number;
  media(): { transports: number; producers: number; consumers: number };
  workers(): Array<{ index: number; state: string; restarts: number }>;
  workerUsage(): Promise<Array<{ index: number; cpuSeconds: number; maxRssKb: number }>>;
  redisUp(): boolean;
  /** Cluster figures; rpcLatencyMs holds the samples since the last call (drained by it). */
  cluster(): { replicas: number; draining: number; pipes: number; pipedProducers: number; failovers: number; rpcLatencyMs: number[] };
  /** UDP ports in use against what is available, per kind (see UdpPortKind). */
  udpPorts(): Array<{ kind: UdpPortKind; used: number; capacity: number }>;
};

/**
 * 'rtc': the WebRtcServer ports (one per mediasoup worker, shared by every WebRTC
 * transport), bound vs configured workers; full by design, it never runs out as
 * peers join. 'pipe': the media.pipePortMin..pipePortMax range, where every
 * PipeTransport and PlainTransport binds a port of its own; it is the one that
 * runs out (alert on used/capacity of this kind).
 */
export type UdpPortKind = 'rtc' | 'pipe';

/** Every metric the gateway exports; names are the contract with stack/ alerts and dashboards. */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'code'>;
  readonly #requestSeconds: Histogram<'method'>;
  readonly #joins: Counter<'kind'>;

  constructor(source: GatewayGaugeSource, labels: { replica: string }) {
    const r = this.registry;
    r.setDefaultLabels(labels);
    collectDefaultMetrics({ register: r, prefix: 'parley_' });
    this.#requests = new Counter({ name: 'parley_signaling_requests_total', help: 'Signaling requests by method and result code', labelNames: ['method', 'code'], registers: [r] });
    this.#requestSeconds = new Histogram({
      name: 'parley_signaling_request_seconds',
      help: 'Signaling request handling time',
      labelNames: ['method'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [r],
    });
    const gauge = (name: string, help: string, read: () => number) =>
      new Gauge({ name, help, registers: [r], collect() { this.set(read()); } });
    gauge('parley_rooms', 'Rooms with at least one peer on this replica', () => source.rooms());
    gauge('parley_peers', 'Peers hosted by this replica (connected or within reconnect grace)', () => source.peers());
    gauge('parley_transports', 'WebRTC transports open', () => source.media().transports);
    gauge('parley_producers', 'Producers open', () => source.media().producers);
    gauge('parley_consumers', 'Consumers open', () => source.media().consumers);
    this.#joins = new Counter({ name: 'parley_joins_total', help: 'Joins: new peers, and reconnects (same identity resumed)', labelNames: ['kind'], registers: [r] });
    const rpcSeconds = new Histogram({
      name: 'parley_cross_replica_message_seconds',
      help: 'One-way latency of requests between replicas (pipe setup) as seen by the receiver',
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25],
      registers: [r],
    });
    let failoversSeen = 0;
    const failovers = new Counter({ name: 'parley_failovers_total', help: 'Gone replicas this replica reaped (peers removed, pipes closed)', registers: [r] });
    const clusterNow = () => {
      const c = source.cluster();
      for (const ms of c.rpcLatencyMs) rpcSeconds.observe(ms / 1000);
      if (c.failovers > failoversSeen) failovers.inc(c.failovers - failoversSeen);
      failoversSeen = c.failovers;
      return c;
    };
    gauge('parley_replicas_alive', 'Replicas with a fresh heartbeat, as this replica sees them', () => clusterNow().replicas);
    gauge('parley_replicas_draining', 'Live replicas that are draining', () => clusterNow().draining);
    gauge('parley_pipes_open', 'PipeTransports open toward or from other replicas', () => clusterNow().pipes);
    gauge('parley_piped_producers', 'Producers of other replicas piped into this one', () => clusterNow().pipedProducers);
    gauge('parley_redis_up', '1 when the Redis command connection is ready', () => (source.redisUp() ? 1 : 0));
    new Gauge({
      name: 'parley_udp_ports_used', help: 'UDP ports in use: rtc = WebRtcServer ports bound, pipe = Pipe/Plain transports open in the pipe port range', labelNames: ['kind'], registers: [r],
      collect() { for (const p of source.udpPorts()) this.set({ kind: p.kind }, p.used); },
    });
    new Gauge({
      name: 'parley_udp_ports_capacity', help: 'UDP ports available: rtc = configured mediasoup workers, pipe = size of media.pipePortMin..pipePortMax', labelNames: ['kind'], registers: [r],
      collect() { for (const p of source.udpPorts()) this.set({ kind: p.kind }, p.capacity); },
    });
    new Gauge({
      name: 'parley_worker_up', help: '1 when the mediasoup worker is running', labelNames: ['worker'], registers: [r],
      collect() { for (const w of source.workers()) this.set({ worker: String(w.index) }, w.state === 'running' ? 1 : 0); },
    });
    new Gauge({
      name: 'parley_worker_restarts', help: 'Times the mediasoup worker was recreated', labelNames: ['worker'], registers: [r],
      collect() { for (const w of source.workers()) this.set({ worker: String(w.index) }, w.restarts); },
    });
    new Gauge({
      name: 'parley_worker_cpu_seconds', help: 'CPU time used by the mediasoup worker (user + system)', labelNames: ['worker'], registers: [r],
      async collect() { for (const u of await source.workerUsage()) this.set({ worker: String(u.index) }, u.cpuSeconds); },
    });
    new Gauge({
      name: 'parley_worker_max_rss_bytes', help: 'Peak resident memory of the mediasoup worker', labelNames: ['worker'], registers: [r],
      async collect() { for (const u of await source.workerUsage()) this.set({ worker: String(u.index) }, u.maxRssKb * 1024); },
    });
  }

  observeRequest(method: string, code: string, ms: number): void {
    this.#requests.inc({ method, code });
    this.#requestSeconds.observe({ method }, ms / 1000);
  }

  observeJoin(resumed: boolean): void {
    this.#joins.inc({ kind: resumed ? 'reconnect' : 'new' });
  }

  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
