/**
 * video: what simulcast costs and how fast a viewer's layer follows its tile, with real Chromium pages
 * (fake 1280x720 camera, simulcast 180p/360p/720p) on Parley replicas started here.
 */
import type { Page } from 'playwright-core';
import { joinCall, type ParleyBrowser } from '../../src/devkit/browser.js';
import { CpuMeter, pidsByName } from '../clients/procCpu.js';
import { startParley, type ParleyTarget } from '../clients/targets.js';
import { sleep, startBrowser, until } from '../lib/stack.js';
import { figuresOf, summarize, summaryRow } from '../lib/stats.js';
import type { OptionValues, RunContext, Scenario, ScenarioResult, SummaryRow } from '../lib/types.js';
import { measureSyntheticRoom, type SyntheticRoom } from './_syntheticRoom.js';

type Switch = { path: 'same' | 'cross'; to: 'small' | 'large'; ms: number | null };
type RoomCpu = { people: number; consumers: number; sfuPct: number; gatewayPct: number; workerPct: number; browserPct: number; layersReceived: Record<string, number> };

const LARGE = { width: 1920, height: 1200 };
const SMALL = { width: 360, height: 640 };

export const scenario: Scenario = {
  name: 'video',
  title: 'Simulcast video in Chromium: layer-switch time (tile resized -> first frame of the new layer) and the CPU of a room with cameras on',
  description: [
    'Layer switch: a sender page with its camera on (simulcast 180p/360p/720p) and a viewer page, on the same replica',
    'and on another one (the video piped between replicas). The viewer\'s window alternates between large and small;',
    'its page reports the tile (setConsumerView) and the server changes the preferred layer. The clock starts when the',
    'page sends that report and stops at the first frame the viewer renders at the new layer\'s height',
    '(requestVideoFrameCallback), both on the page\'s clock. Room CPU: P pages with cameras on, everyone seeing',
    'everyone; over a window, the CPU of the gateways and their mediasoup workers (the SFU) and of the browser, in',
    'percent of one core, and the layers the viewers receive. The browser runs on the same machine as the SFU.',
    'Synthetic room: a room of --synthetic-people with cameras on, played by werift load clients (synthetic VP8',
    'simulcast, each viewer at --synthetic-layer), on one replica: its mediasoup worker\'s and gateway\'s CPU, loss and jitter.',
    'Video consumers per core side by side with Janus VideoRoom: `capacity --media video`.',
  ].join('\n'),
  options: [
    { name: 'switches', type: 'number', default: 20, smoke: 2, help: 'layer switches measured per path (half down, half up)' },
    { name: 'paths', type: 'list', default: ['same', 'cross'], help: 'same: viewer on the sender\'s replica; cross: on another replica' },
    { name: 'people', type: 'number', default: 4, smoke: 2, help: 'pages with cameras on in the CPU room (9 needs far more than 2 cores for the browsers)' },
    { name: 'window-ms', type: 'number', default: 10_000, smoke: 3000, help: 'CPU measurement window of the room' },
    { name: 'timeout-ms', type: 'number', default: 10_000, help: 'a switch with no frame of the new layer after this long counts as failed' },
    { name: 'synthetic-people', type: 'number', default: 9, smoke: 3, help: 'people in the synthetic room (werift clients; 0 skips it)' },
    { name: 'synthetic-layer', type: 'number', default: 1, help: 'layer its viewers receive (1 = 360p, what a 3x3 grid in a 1280x720 window asks for)' },
  ],
  async run(ctx, o) {
    // The synthetic room holds 2 peers per person (a camera and a viewer): more than the default 16 per room.
    const parley = await startParley(ctx, 2, { PARLEY_ROOMS_MAX_PEERS: '64' });
    const browser = await startBrowser(ctx);
    const switches: Switch[] = [];
    for (const path of (o.paths as string[]).map(String)) {
      if (path !== 'same' && path !== 'cross') throw new TypeError(`--paths: unknown path "${path}" (same, cross)`);
      switches.push(...(await measureSwitches(ctx, browser, parley, path, o)));
    }
    const room = await measureRoom(ctx, browser, parley, o);
    const people = Number(o['synthetic-people']);
    const synthetic = people > 0 ? await measureSyntheticRoom(ctx, parley, people, Number(o['synthetic-layer']), 3000, Number(o['window-ms'])) : null;
    return report(switches, room, synthetic, o);
  },
};

async function page(browser: ParleyBrowser, url: string, roomId: string, name: string, size = LARGE): Promise<Page> {
  const p = await browser.newPage();
  await p.setViewportSize(size);
  await joinCall(p, url, { roomId, displayName: name });
  if ((await p.getAttribute('#captions-button', 'aria-pressed')) === 'true') await p.click('#captions-button');
  return p;
}

async function measureSwitches(ctx: RunContext, browser: ParleyBrowser, parley: ParleyTarget, path: 'same' | 'cross', o: OptionValues): Promise<Switch[]> {
  const roomId = `switch-${path}`;
  const sender = await page(browser, parley.urls[0]!, roomId, 'Sender');
  const viewer = await page(browser, parley.urls[path === 'same' ? 0 : 1]!, roomId, 'Viewer');
  ctx.defer(() => sender.close());
  ctx.defer(() => viewer.close());
  await sender.evaluate(() => window.parley!.setVideo('cam', true));
  const video = await until(ctx, async () => (await viewer.evaluate(() => window.parley!.inboundVideo())).find((v) => v.framesDecoded > 10) ?? null, 30_000, 'the viewer decoding the camera');
  // Every frame the viewer renders of that video, with its height, on the page's clock. (A string: the bench's
  // TypeScript loader names functions, and a named function would not survive the trip into the page.)
  await viewer.evaluate(`(() => {
    window.__frames = [];
    const el = document.querySelector('video[data-consumer-id="${video.consumerId}"]');
    const onFrame = (now, meta) => {
      window.__frames.push({ at: now, height: meta.height });
      if (window.__frames.length > 2000) window.__frames.splice(0, 1000);
      el.requestVideoFrameCallback(onFrame);
    };
    el.requestVideoFrameCallback(onFrame);
  })()`);
  const out: Switch[] = [];
  const n = Number(o.switches);
  for (let i = 0; i < n; i++) {
    ctx.progress(i, n, `${path}: switch ${i + 1}/${n}`);
    const to = i % 2 === 0 ? 'small' : 'large';
    // Start from a settled layer that the switch must change: above 180p before shrinking, at 180p before growing.
    await until(ctx, async () => {
      const h = (await viewer.evaluate(() => window.parley!.inboundVideo())).find((v) => v.consumerId === video.consumerId)?.frameHeight ?? 0;
      return (to === 'small' ? h > 180 : h === 180) ? true : null;
    }, 30_000, `the viewer settled before switch ${i + 1}`);
    const before = await viewer.evaluate(() => window.parley!.viewReports().length);
    await viewer.setViewportSize(to === 'small' ? SMALL : LARGE);
    const ms = await switchTime(viewer, video.consumerId, before, Number(o['timeout-ms']));
    out.push({ path, to, ms });
    await sleep(ctx, 1500); // let bandwidth estimation settle before the next switch
  }
  // Their cameras would load the machine during the next measurements.
  await Promise.all([sender.close(), viewer.close()]);
  return out;
}

/** From the report the page sent after the resize to the first frame rendered at a different height than before it. */
async function switchTime(viewer: Page, consumerId: string, reportsBefore: number, timeoutMs: number): Promise<number | null> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ms = await viewer.evaluate(
      ([id, skip]) => {
        const report = window.parley!.viewReports().slice(skip as number).find((r) => r.consumerId === id);
        if (!report) return null;
        const frames = (window as unknown as { __frames: Array<{ at: number; height: number }> }).__frames;
        const last = [...frames].reverse().find((f) => f.at <= report.at);
        const first = frames.find((f) => f.at > report.at && last && f.height !== last.height);
        return first ? first.at - report.at : null;
      },
      [consumerId, reportsBefore] as const,
    );
    if (ms !== null) return ms;
    await new Promise((r) => setTimeout(r, 50));
  }
  return null;
}

async function measureRoom(ctx: RunContext, browser: ParleyBrowser, parley: ParleyTarget, o: OptionValues): Promise<RoomCpu> {
  const people = Number(o.people);
  const pages: Page[] = [];
  for (let i = 0; i < people; i++) {
    ctx.progress(i, people, `room: page ${i + 1}/${people} joins with its camera`);
    const p = await page(browser, parley.urls[i % parley.urls.length]!, 'cpu-room', `P${i}`, { width: 1280, height: 800 });
    ctx.defer(() => p.close());
    await p.evaluate(() => window.parley!.setVideo('cam', true));
    pages.push(p);
  }
  await until(ctx, async () => {
    for (const p of pages) if ((await p.evaluate(() => window.parley!.inboundVideo())).filter((v) => v.framesDecoded > 10).length < people - 1) return null;
    return true;
  }, 60_000, 'every page decoding every camera');
  await sleep(ctx, 3000);
  // The bench's own Chromium is the only one on a quiet machine.
  const browserPids = pidsByName('chrom');
  const meters = { gateway: new CpuMeter(parley.gatewayPids), worker: new CpuMeter(parley.workerPids), browser: new CpuMeter(browserPids) };
  for (const m of Object.values(meters)) m.start();
  ctx.progress(0, 1, `room: measuring ${Number(o['window-ms'])} ms`);
  await sleep(ctx, Number(o['window-ms']));
  const gatewayPct = meters.gateway.percent();
  const workerPct = meters.worker.percent();
  const layersReceived: Record<string, number> = {};
  for (const p of pages) for (const v of await p.evaluate(() => window.parley!.inboundVideo())) layersReceived[`${v.frameHeight}p`] = (layersReceived[`${v.frameHeight}p`] ?? 0) + 1;
  const browserPct = meters.browser.percent();
  await Promise.all(pages.map((p) => p.close())); // their cameras would load the synthetic room's window
  return { people, consumers: people * (people - 1), gatewayPct, workerPct, sfuPct: gatewayPct + workerPct, browserPct, layersReceived };
}

function report(switches: Switch[], room: RoomCpu, synthetic: SyntheticRoom | null, o: OptionValues): ScenarioResult {
  const summary: SummaryRow[] = [];
  const figures: Record<string, number> = {};
  const notes: string[] = [];
  for (const path of ['same', 'cross'] as const) {
    const mine = switches.filter((s) => s.path === path);
    if (mine.length === 0) continue;
    const ok = mine.flatMap((s) => (s.ms === null ? [] : [s.ms]));
    const s = summarize(ok);
    summary.push(summaryRow({ measure: `layer switch ms (${path === 'same' ? 'same replica' : 'across replicas'})`, failed: mine.length - ok.length }, s));
    Object.assign(figures, figuresOf(`layer_switch_${path}`, s));
    figures[`layer_switch_${path}_failed`] = mine.length - ok.length;
  }
  summary.push({ measure: `room of ${room.people} with cameras: SFU CPU % of a core`, n: 1, p50: Math.round(room.sfuPct), p95: '-', p99: '-', max: '-', failed: 0 });
  Object.assign(figures, {
    room_people: room.people,
    room_video_consumers: room.consumers,
    room_sfu_cpu_pct: Math.round(room.sfuPct),
    room_gateway_cpu_pct: Math.round(room.gatewayPct),
    room_worker_cpu_pct: Math.round(room.workerPct),
    room_browser_cpu_pct: Math.round(room.browserPct),
  });
  notes.push(`room of ${room.people}: ${room.consumers} video consumers; SFU ${Math.round(room.sfuPct)} % of a core (gateways ${Math.round(room.gatewayPct)} %, mediasoup workers ${Math.round(room.workerPct)} %), the pages' browser ${Math.round(room.browserPct)} %; layers received: ${Object.entries(room.layersReceived).map(([k, v]) => `${v} x ${k}`).join(', ')}`);
  if (synthetic) Object.assign(figures, syntheticFigures(synthetic, summary, notes));
  notes.push('Video consumers per core with simulcast, side by side with Janus VideoRoom: `capacity --media video`.');
  if (Number(o.people) < 9) notes.push(`the browser room has ${o.people} people: a 9-person room of Chromium pages with cameras needs more cores than this machine has (the synthetic room plays one with load clients)`);
  return {
    summary,
    figures,
    samples: { switches, room, synthetic },
    plots: [{ id: 'switch', title: 'Layer switch: tile resized -> first frame of the new layer', kind: 'scatter', xLabel: 'switch', yLabel: 'ms', series: (['same', 'cross'] as const).map((p) => ({ name: p, points: switches.filter((s) => s.path === p && s.ms !== null).map((s, i) => [i, s.ms!] as [number, number]) })) }],
    notes,
    environment: { replicas: 2, camera: 'Chromium fake device 1280x720, simulcast 180p/360p/720p (L1T3)', people: room.people, viewports: { large: LARGE, small: SMALL } },
  };
}

function syntheticFigures(r: SyntheticRoom, summary: SummaryRow[], notes: string[]): Record<string, number> {
  const w = r.window;
  const sfu = w.sfuCpuPct + w.otherCpuPct;
  summary.push({ measure: `synthetic room of ${r.people} (${r.layer} each): SFU CPU % of a core`, n: 1, p50: Math.round(sfu), p95: '-', p99: '-', max: '-', failed: 0 });
  notes.push(
    `synthetic room of ${r.people}: ${w.consumers} video consumers at ${r.layer} (${w.streamsReceiving} delivering); SFU ${Math.round(sfu)} % of a core (mediasoup worker ${Math.round(w.sfuCpuPct)} %, gateway ${Math.round(w.otherCpuPct)} %); ` +
      `loss ${w.lossPct.toFixed(2)} %, jitter p95 ${w.jitterP95Ms.toFixed(1)} ms; load clients ${Math.round(w.clientCpuPct)} %, load average ${w.loadAverage}`,
  );
  return {
    synthetic_room_people: r.people,
    synthetic_room_video_consumers: w.consumers,
    synthetic_room_sfu_cpu_pct: Math.round(sfu),
    synthetic_room_worker_cpu_pct: Math.round(w.sfuCpuPct),
    synthetic_room_gateway_cpu_pct: Math.round(w.otherCpuPct),
    synthetic_room_loss_pct: Math.round(w.lossPct * 100) / 100,
    synthetic_room_jitter_p95_ms: Math.round(w.jitterP95Ms * 10) / 10,
  };
}
