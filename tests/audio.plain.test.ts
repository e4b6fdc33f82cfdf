/**
 * The gateway's audio taps against a real mediasoup worker: speech injected
 * through a PlainTransport producer comes back out of a PlainTransport
 * consumer, gets decoded and cut into utterances in the VAD worker thread.
 */
import { createRequire } from 'node:module';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpusDecoder, encodeOpusFrames } from '../src/ai/audio/opus.js';
import { PlainInject } from '../src/ai/audio/plainInject.js';
import { PlainTap } from '../src/ai/audio/plainTap.js';
import { float32ToInt16, resample, rms } from '../src/ai/audio/resample.js';
import type { RtpPacket } from '../src/ai/audio/rtp.js';
import { seqDelta } from '../src/ai/audio/rtp.js';
import { VadThread, type AudioUtterance } from '../src/ai/audio/vadThread.js';
import { ROUTER_MEDIA_CODECS } from '../src/media/codecs.js';

const sherpa = createRequire(import.meta.url)('sherpa-onnx-node') as {
  readWave(path: string): { samples: Float32Array; sampleRate: number };
};
const CLIP = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Received = { payload: Buffer; packet: RtpPacket; arrivalMs: number };

describe('PlainInject -> mediasoup router -> PlainTap', () => {
  let worker: types.Worker;
  let router: types.Router;
  let vad: VadThread;

  beforeAll(async () => {
    worker = await mediasoup.createWorker({ logLevel: 'warn' });
    router = await worker.createRouter({ mediaCodecs: ROUTER_MEDIA_CODECS });
    vad = await VadThread.create();
  });

  afterAll(async () => {
    await vad?.close();
    worker?.close();
  });

  it('carries real speech through the router byte for byte, into utterances', async () => {
    const pcm48 = resample(float32ToInt16(sherpa.readWave(CLIP).samples), 16000, 48000);
    const speech = encodeOpusFrames(pcm48);
    const frames = [...speech, ...encodeOpusFrames(new Int16Array(48 * 800))]; // + 800 ms silence ends the utterance
    const inject = await PlainInject.create({ router });
    const audioTap = await vad.openTap({ minSilenceMs: 500 });
    const utterances: AudioUtterance[] = [];
    audioTap.on('utterance', (u) => utterances.push(u));
    const received: Received[] = [];
    const tap = await PlainTap.create({
      router,
      producerId: inject.producer.id,
      onPayload: (payload, packet, arrivalMs) => {
        received.push({ payload: Buffer.from(payload), packet, arrivalMs });
        audioTap.push(payload, arrivalMs);
      },
    });
    expect(tap.payloadType).toBe(100);
    let firstPacketAt = 0;
    inject.once('firstPacket', (t) => (firstPacketAt = t));

    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    const t0 = performance.now();
    await inject.sendFrames(frames);
    const sendMs = performance.now() - t0;
    await sleep(300);
    lag.disable();
    const stats = await audioTap.close();

    // Every packet arrives (loopback), in order, carrying exactly the Opus frames we sent.
    expect(received.length).toBeGreaterThanOrEqual(Math.floor(frames.length * 0.98));
    expect(received.length).toBeLessThanOrEqual(frames.length);
    const firstSeq = received[0]!.packet.sequenceNumber;
    let matched = 0;
    for (const r of received) {
      const i = seqDelta(firstSeq, r.packet.sequenceNumber);
      if (frames[i]?.equals(r.payload)) matched++;
    }
    expect(matched).toBe(received.length);
    expect(received.every((r, i) => i === 0 || r.packet.timestamp - received[i - 1]!.packet.timestamp === 960 * seqDelta(received[i - 1]!.packet.sequenceNumber, r.packet.sequenceNumber))).toBe(true);

    // The speech energy arrives.
    const dec = new OpusDecoder();
    const decoded = received.slice(0, speech.length).map((r) => dec.decode(r.payload));
    dec.close();
    const out = new Int16Array(decoded.reduce((n, d) => n + d.length, 0));
    decoded.reduce((o, d) => (out.set(d, o), o + d.length), 0);
    const inRms = rms(pcm48);
    const outRms = rms(out);
    expect(outRms).toBeGreaterThan(1000);
    expect(Math.abs(outRms - inRms) / inRms).toBeLessThan(0.2);

    // And the VAD thread made an utterance of it.
    expect(utterances.length).toBeGreaterThanOrEqual(1);
    expect(utterances[0]!.endedBy).toBe('silence');
    expect(rms(utterances[0]!.samples)).toBeGreaterThan(1000);
    expect(firstPacketAt).toBeGreaterThan(0);

    const rate = received.length / ((received.at(-1)!.arrivalMs - received[0]!.arrivalMs) / 1000);
    const speechEndWall = received[0]!.arrivalMs + utterances[0]!.endMs;
    console.log(
      `[plain] ${frames.length} frames sent in ${sendMs.toFixed(0)} ms, ${received.length} received (${rate.toFixed(1)} packets/s), ` +
        `RTCP seen ${tap.stats.rtcp}, first packet inject->tap ${received[0]!.arrivalMs - firstPacketAt} ms`,
    );
    console.log(`[plain] RMS source ${inRms.toFixed(0)}, through mediasoup ${outRms.toFixed(0)}; utterance ${utterances[0]!.startMs}-${utterances[0]!.endMs} ms, decided ~${utterances[0]!.speechEndAt - speechEndWall} ms after speech end`);
    console.log(`[plain] VAD worker: decode ${stats!.decodeMs.toFixed(1)} ms, resample ${stats!.resampleMs.toFixed(1)} ms, VAD ${stats!.vadMs.toFixed(1)} ms for ${stats!.audioMs} ms of audio`);
    console.log(
      `[plain] main event-loop delay (1 ms resolution, includes it): p50 ${(lag.percentile(50) / 1e6).toFixed(2)} ms, p99 ${(lag.percentile(99) / 1e6).toFixed(2)} ms, max ${(lag.max / 1e6).toFixed(2)} ms`,
    );

    tap.close();
    tap.close();
    inject.close();
    expect(tap.transport.closed).toBe(true);
    expect(inject.producer.closed).toBe(true);
  });

  it('marks a new talkspurt after a pause and keeps RTP time in step with wall time', async () => {
    const inject = await PlainInject.create({ router, ssrc: 1234 });
    const received: RtpPacket[] = [];
    const tap = await PlainTap.create({ router, producerId: inject.producer.id, onPayload: (_p, packet) => received.push(packet) });
    const firsts: number[] = [];
    inject.on('firstPacket', (t) => firsts.push(t));
    const tone = new Int16Array(48 * 200).map((_, i) => Math.round(5000 * Math.sin(i / 7)));
    await inject.send(tone);
    await sleep(400);
    await inject.send(tone);
    await sleep(200);
    expect(firsts).toHaveLength(2);
    expect(received).toHaveLength(20);
    expect(received.map((p) => p.marker)).toEqual(received.map((_, i) => i === 0 || i === 10));
    expect(seqDelta(received[9]!.sequenceNumber, received[10]!.sequenceNumber)).toBe(1);
    // The pause (~400 ms minus the 20 ms the last frame lasted) shows up in the RTP clock.
    const gapMs = (received[10]!.timestamp - received[9]!.timestamp) / 48;
    const wallGapMs = firsts[1]! - firsts[0]! - 9 * 20;
    console.log(`[plain] pause: RTP clock ${gapMs.toFixed(0)} ms, wall clock ${wallGapMs} ms between the talkspurts`);
    expect(Math.abs(gapMs - wallGapMs)).toBeLessThan(60);
    inject.close();
    tap.close();
  });

  it('tells mediasoup how loud each injected frame is, so a translated voice can be the active speaker', async () => {
    const voice = await PlainInject.create({ router, appData: { peerId: 'speaker' } });
    const hum = await PlainInject.create({ router, appData: { peerId: 'quiet' } });
    const observer = await router.createActiveSpeakerObserver({ interval: 100 });
    const levels = await router.createAudioLevelObserver({ threshold: -60, interval: 200 });
    const dominant: string[] = [];
    observer.on('dominantspeaker', ({ producer }) => dominant.push(String(producer.appData.peerId)));
    const loud = new Set<string>();
    levels.on('volumes', (volumes) => volumes.forEach((v) => loud.add(String(v.producer.appData.peerId))));
    // The quiet one first, so it is dominant until the voice speaks.
    await observer.addProducer({ producerId: hum.producer.id });
    await observer.addProducer({ producerId: voice.producer.id });
    await levels.addProducer({ producerId: hum.producer.id });
    await levels.addProducer({ producerId: voice.producer.id });
    const pcm48 = resample(float32ToInt16(sherpa.readWave(CLIP).samples), 16000, 48000).subarray(0, 48 * 3000);
    const faint = new Int16Array(pcm48.length).map((_, i) => (i % 2 ? 3 : -3));
    await Promise.all([hum.send(faint), voice.send(pcm48)]);
    expect(dominant.at(-1)).toBe('speaker');
    expect(loud.has('speaker')).toBe(true);
    expect(loud.has('quiet')).toBe(false);
    voice.close();
    hum.close();
    observer.close();
    levels.close();
  });

  it('closes the tap when the producer goes away, and refuses an unknown producer', async () => {
    const inject = await PlainInject.create({ router });
    const tap = await PlainTap.create({ router, producerId: inject.producer.id, onPayload: () => {} });
    const closed = new Promise<void>((r) => tap.once('close', r));
    inject.close();
    await closed;
    expect(tap.closed).toBe(true);
    expect(tap.consumer.closed).toBe(true);
    await expect(inject.sendFrames([Buffer.from([1])])).rejects.toThrow(/closed/);
    await expect(PlainTap.create({ router, producerId: 'nope', onPayload: () => {} })).rejects.toThrow(TypeError);
  });
});
