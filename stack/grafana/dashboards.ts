/**
 * Source of the provisioned Grafana dashboards (stack/grafana/dashboards/*.json).
 * The JSON files are generated from here so every panel is built the same way:
 *
 *   node --import tsx stack/grafana/dashboards.ts      # rewrite the JSON files
 *
 * tests/stack.files.test.ts checks the committed JSON equals this output, and
 * tests/stack.metrics.test.ts that every metric in a query is exported.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** uid of the provisioned Prometheus datasource (provisioning/datasources/prometheus.yaml). */
export const DATASOURCE = { type: 'prometheus', uid: 'parley-prometheus' } as const;

type Target = { expr: string; legendFormat: string; format?: 'table'; instant?: boolean };
type Panel = Record<string, unknown>;
export type Dashboard = { uid: string; title: string; file: string; json: Record<string, unknown> };

const q = (expr: string, legendFormat = ''): Target => ({ expr, legendFormat });

/** Panels flow left to right, 24 columns wide, in rows of the given height. */
class Layout {
  #x = 0;
  #y = 0;
  #rowHeight = 0;
  #id = 1;
  readonly panels: Panel[] = [];

  add(kind: 'timeseries' | 'stat' | 'table', title: string, w: number, h: number, body: Record<string, unknown>): this {
    if (this.#x + w > 24) {
      this.#x = 0;
      this.#y += this.#rowHeight;
      this.#rowHeight = 0;
    }
    this.panels.push({ id: this.#id++, type: kind, title, gridPos: { x: this.#x, y: this.#y, w, h }, ...body });
    this.#x += w;
    this.#rowHeight = Math.max(this.#rowHeight, h);
    return this;
  }

  series(title: string, unit: string, targets: Target[], w = 12): this {
    return this.add('timeseries', title, w, 8, {
      datasource: DATASOURCE,
      fieldConfig: { defaults: { unit, custom: { lineWidth: 1, fillOpacity: 10 } }, overrides: [] },
      options: { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
      targets: targets.map((t, i) => ({ ...t, refId: String.fromCharCode(65 + i), datasource: DATASOURCE })),
    });
  }

  stat(title: string, unit: string, target: Target, thresholds: Array<[number | null, string]> = [[null, 'green']], w = 4): this {
    return this.add('stat', title, w, 4, {
      datasource: DATASOURCE,
      fieldConfig: {
        defaults: { unit, thresholds: { mode: 'absolute', steps: thresholds.map(([value, color]) => ({ value, color })) } },
        overrides: [],
      },
      options: { reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false }, colorMode: 'background', graphMode: 'area' },
      targets: [{ ...target, refId: 'A', datasource: DATASOURCE }],
    });
  }

  /** The labels of an instant query's series as rows (`columns` in order, the value last as `valueName`). */
  table(title: string, description: string, expr: string, columns: string[], valueName: string, w = 24, h = 8): this {
    return this.add('table', title, w, h, {
      description,
      datasource: DATASOURCE,
      fieldConfig: { defaults: { custom: { align: 'auto' } }, overrides: [] },
      options: { showHeader: true, cellHeight: 'sm', footer: { show: false, reducer: ['sum'], fields: '' }, sortBy: [{ displayName: columns[0], desc: false }] },
      targets: [{ ...q(expr), format: 'table', instant: true, refId: 'A', datasource: DATASOURCE }],
      transformations: [{
        id: 'organize',
        options: {
          excludeByName: { Time: true },
          indexByName: Object.fromEntries([...columns, 'Value'].map((c, i) => [c, i])),
          renameByName: { Value: valueName },
        },
      }],
    });
  }
}

/** p-th quantile of a histogram, summed by `by` (and le). */
const quantile = (p: number, metric: string, by: string[] = [], window = '5m', filter = ''): string =>
  `histogram_quantile(${p}, sum by (${['le', ...by].join(', ')}) (rate(${metric}_bucket${filter}[${window}])))`;

const replicaVar = {
  name: 'replica',
  label: 'Replica',
  type: 'query',
  datasource: DATASOURCE,
  query: { query: 'label_values(parley_peers, replica)', refId: 'replica' },
  definition: 'label_values(parley_peers, replica)',
  includeAll: true,
  multi: true,
  current: { text: 'All', value: '$__all' },
  refresh: 2,
};

function dashboard(uid: string, title: string, layout: Layout, variables: unknown[] = []): Dashboard {
  return {
    uid,
    title,
    file: `${uid}.json`,
    json: {
      uid,
      title,
      tags: ['parley'],
      timezone: 'utc',
      schemaVersion: 39,
      version: 1,
      editable: true,
      refresh: '30s',
      time: { from: 'now-3h', to: 'now' },
      templating: { list: variables },
      annotations: { list: [] },
      links: [{ type: 'dashboards', tags: ['parley'], asDropdown: true, title: 'Parley' }],
      panels: layout.panels,
    },
  };
}

const R = '{replica=~"$replica"}';

function overview(): Dashboard {
  const l = new Layout()
    .stat('Gateways up', 'none', q('count(up{job="parley-gateway"} == 1)'), [[null, 'red'], [1, 'green']])
    .stat('AI workers up', 'none', q('count(up{job="parley-ai-worker"} == 1)'), [[null, 'red'], [1, 'green']])
    .stat('Rooms', 'none', q('sum(parley_rooms)'))
    .stat('Peers', 'none', q('sum(parley_peers)'))
    .stat('Translation p95', 's', q(quantile(0.95, 'parley_ai_end_to_end_seconds')), [[null, 'green'], [3, 'red']])
    .stat('Redis (lowest of the gateways)', 'none', q('min(parley_redis_up)'), [[null, 'red'], [1, 'green']])
    .series('Peers per replica', 'none', [q('sum by (replica) (parley_peers)', '{{replica}}')])
    .series('Signaling requests by result', 'reqps', [q('sum by (code) (rate(parley_signaling_requests_total[5m]))', '{{code}}')])
    .series('Signaling p95 by method', 's', [q(quantile(0.95, 'parley_signaling_request_seconds', ['method']), '{{method}}')])
    .series('Event loop lag p99', 's', [
      q('parley_nodejs_eventloop_lag_p99_seconds', 'gateway {{replica}}'),
      q('parley_ai_worker_nodejs_eventloop_lag_p99_seconds', 'ai {{worker}}'),
    ])
    .series('UDP port use (used / capacity)', 'percentunit', [q('parley_udp_ports_used / parley_udp_ports_capacity', '{{replica}} {{kind}}')])
    .series('Translation end to end (p50, p95)', 's', [
      q(quantile(0.5, 'parley_ai_end_to_end_seconds'), 'p50'),
      q(quantile(0.95, 'parley_ai_end_to_end_seconds'), 'p95'),
    ]);
  return dashboard('parley-overview', 'Parley / Overview', l);
}

function calls(): Dashboard {
  const l = new Layout()
    .series('Rooms', 'none', [q(`parley_rooms${R}`, '{{replica}}')], 8)
    .series('Peers', 'none', [q(`parley_peers${R}`, '{{replica}}')], 8)
    .series('Joins', 'ops', [q(`sum by (kind) (rate(parley_joins_total${R}[5m]))`, '{{kind}}')], 8)
    .series('Transports, producers, consumers', 'none', [
      q(`sum(parley_transports${R})`, 'transports'),
      q(`sum(parley_producers${R})`, 'producers'),
      q(`sum(parley_consumers${R})`, 'consumers'),
    ])
    .series('Consumers per replica', 'none', [q(`parley_consumers${R}`, '{{replica}}')])
    .series('Pipes open and piped producers', 'none', [
      q(`parley_pipes_open${R}`, 'pipes {{replica}}'),
      q(`parley_piped_producers${R}`, 'piped producers {{replica}}'),
    ])
    .series('Cross-replica message latency (p50, p99)', 's', [
      q(quantile(0.5, 'parley_cross_replica_message_seconds', [], '5m', R), 'p50'),
      q(quantile(0.99, 'parley_cross_replica_message_seconds', [], '5m', R), 'p99'),
    ])
    .series('Signaling errors by code', 'reqps', [q(`sum by (code) (rate(parley_signaling_requests_total{replica=~"$replica",code!="ok"}[5m]))`, '{{code}}')])
    .series('Failovers (replicas reaped)', 'none', [q(`sum by (replica) (increase(parley_failovers_total${R}[1h]))`, '{{replica}}')])
    .series('Video consumers by layer received', 'none', [q(`sum by (layer) (parley_video_consumers${R})`, 'layer {{layer}}')])
    .series('Video producers and layers sent', 'none', [
      q(`sum by (source) (parley_video_producers${R})`, 'producers {{source}}'),
      q(`sum(parley_video_layers_sent${R})`, 'layers sent'),
    ])
    .series('Video bitrate to viewers per room', 'bps', [q(`sum by (room) (parley_room_video_bitrate_bps${R})`, '{{room}}')])
    .series('Video consumer score (lowest) and keyframe requests', 'none', [
      q(`min(parley_video_consumer_score_min${R})`, 'lowest score'),
      q(`sum(rate(parley_video_keyframe_requests_total${R}[5m]))`, 'keyframe requests/s'),
    ]);
  return dashboard('parley-calls', 'Parley / Calls', l, [replicaVar]);
}

function aiPipeline(): Dashboard {
  const l = new Layout()
    .series('Latency per stage (p95)', 's', [q(quantile(0.95, 'parley_ai_stage_seconds', ['stage']), '{{stage}}')])
    .series('End to end and processing by language (p95)', 's', [
      q(quantile(0.95, 'parley_ai_end_to_end_seconds', ['language']), 'end to end {{language}}'),
      q(quantile(0.95, 'parley_ai_processing_seconds', ['language']), 'transcript to packet {{language}}'),
    ])
    .series('Queue depth', 'none', [q('max by (queue) (parley_ai_queue_depth)', '{{queue}}')], 8)
    .series('Queue wait (p95)', 's', [q(quantile(0.95, 'parley_ai_queue_wait_seconds', ['stage']), '{{stage}}')], 8)
    .series('Job time (p95)', 's', [q(quantile(0.95, 'parley_ai_job_seconds', ['stage']), '{{stage}}')], 8)
    .series('Recognition sessions per worker (streaming speakers)', 'none', [q('max by (worker) (parley_ai_stt_sessions_active)', '{{worker}}')], 8)
    .series('Decoder lag behind live audio (p95) and real-time factor (p50)', 's', [
      q(quantile(0.95, 'parley_ai_stt_audio_lag_seconds', ['worker']), 'lag {{worker}}'),
      q(quantile(0.5, 'parley_ai_stt_session_rtf', ['worker']), 'rtf {{worker}}'),
    ], 8)
    .series('Recognizer final after the end of speech (p95)', 's', [q(quantile(0.95, 'parley_ai_stt_final_seconds', ['worker']), '{{worker}}')], 8)
    .series('Jobs by stage and result', 'ops', [q('sum by (stage, result) (rate(parley_ai_jobs_total[5m]))', '{{stage}} {{result}}')])
    .series('Utterances dropped by stage and code', 'ops', [q('sum by (stage, code) (rate(parley_ai_dropped_total[5m]))', '{{stage}} {{code}}')])
    .series('Cache hit ratio', 'percentunit', [
      q('sum by (kind) (rate(parley_ai_cache_hits_total[15m])) / (sum by (kind) (rate(parley_ai_cache_hits_total[15m])) + sum by (kind) (rate(parley_ai_cache_misses_total[15m])))', '{{kind}}'),
    ])
    .series('AI worker CPU', 'percentunit', [q('rate(parley_ai_worker_process_cpu_seconds_total[5m])', '{{worker}}')])
    .table(
      'Engine per language',
      'Which engine serves each stage and language (a translate language is a pair, e.g. en-es), and on how many AI workers, ' +
        'from parley_ai_engine_info. The same list: `GET /ai/engines` on a gateway, `GET /health` on an AI worker. See docs/operations.md#model-management.',
      'count by (stage, language, engine) (parley_ai_engine_info)',
      ['stage', 'language', 'engine'],
      'workers',
    );
  return dashboard('parley-ai', 'Parley / AI pipeline', l);
}

function replicas(): Dashboard {
  const l = new Layout()
    .series('Scrape up', 'none', [q('up{job=~"parley-gateway|parley-ai-worker"}', '{{job}} {{instance}}')])
    .series('Replicas alive and draining, as each replica sees them', 'none', [
      q(`parley_replicas_alive${R}`, 'alive (seen by {{replica}})'),
      q(`parley_replicas_draining${R}`, 'draining (seen by {{replica}})'),
    ])
    .series('mediasoup workers up', 'none', [q(`parley_worker_up${R}`, '{{replica}} #{{worker}}')], 8)
    .series('mediasoup worker restarts', 'none', [q(`parley_worker_restarts${R}`, '{{replica}} #{{worker}}')], 8)
    .series('mediasoup worker CPU', 'percentunit', [q(`rate(parley_worker_cpu_seconds${R}[5m])`, '{{replica}} #{{worker}}')], 8)
    .series('mediasoup worker peak memory', 'bytes', [q(`parley_worker_max_rss_bytes${R}`, '{{replica}} #{{worker}}')], 8)
    .series('Gateway process CPU', 'percentunit', [q(`rate(parley_process_cpu_seconds_total${R}[5m])`, '{{replica}}')], 8)
    .series('Gateway memory', 'bytes', [
      q(`parley_process_resident_memory_bytes${R}`, 'rss {{replica}}'),
      q(`parley_nodejs_heap_size_used_bytes${R}`, 'heap {{replica}}'),
    ], 8)
    .series('Event loop lag p99', 's', [q(`parley_nodejs_eventloop_lag_p99_seconds${R}`, '{{replica}}')])
    .series('Redis connection', 'none', [q(`parley_redis_up${R}`, '{{replica}}')])
    .series('UDP ports used', 'none', [q(`parley_udp_ports_used${R}`, '{{replica}} {{kind}}')])
    .series('UDP ports capacity', 'none', [q(`parley_udp_ports_capacity${R}`, '{{replica}} {{kind}}')]);
  return dashboard('parley-replicas', 'Parley / Replicas', l, [replicaVar]);
}

/** Every provisioned dashboard. */
export function dashboards(): Dashboard[] {
  return [overview(), calls(), aiPipeline(), replicas()];
}

/** The file content written for a dashboard (stable key order, trailing newline). */
export function render(d: Dashboard): string {
  return `${JSON.stringify(d.json, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const dir = new URL('./dashboards/', import.meta.url);
  for (const d of dashboards()) writeFileSync(new URL(d.file, dir), render(d));
  console.log(`wrote ${dashboards().length} dashboards to ${fileURLToPath(dir)}`);
}
