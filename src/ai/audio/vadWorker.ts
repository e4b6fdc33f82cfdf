/**
 * Worker-thread side of the audio tap (see vadThread.ts): per stream, Opus
 * payloads -> 48 kHz PCM -> 16 kHz mono -> Silero VAD -> utterances posted back
 * (chunkMs 0), or the speech streamed as it is spoken: speechstart, chunks,
 * speechend (chunkMs > 0). Messages are handled strictly in order.
 */
import { parentPort } from 'node:worker_threads';
import { OpusDecoder } from './opus.js';
import { Resampler, toMono } from './resample.js';
import { VAD_SAMPLE_RATE, VadSegmenter, type SegmentEnd, type UtteranceEnd, type VadSegmenterOptions, type VadUtterance } from './vad.js';

/** Options of one stream (`chunkMs` > 0: stream events instead of whole utterances). */
export type TapStreamOptions = VadSegmenterOptions & {
  /** Channels to decode (1: libopus downmixes a stereo stream; 2: decode both, average here). Default 1. */
  channels?: 1 | 2;
};

/** Cost counters of one stream. */
export type TapStats = {
  packets: number;
  /** Packets that failed to decode (replaced by 20 ms of silence). */
  decodeErrors: number;
  /** Utterances the VAD found (posted as such, or streamed). */
  utterances: number;
  /** Audio decoded, in ms. */
  audioMs: number;
  /** CPU time spent per stage, in ms. */
  decodeMs: number;
  resampleMs: number;
  vadMs: number;
};

export type ToWorker =
  | { type: 'open'; id: number; options: TapStreamOptions }
  | { type: 'audio'; id: number; payload: Uint8Array; arrivalMs: number }
  | { type: 'flush'; id: number }
  | { type: 'close'; id: number };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'opened'; id: number }
  | {
      type: 'utterance';
      id: number;
      samples: Int16Array;
      /** Stream time (ms since the first pushed packet's audio). */
      startMs: number;
      endMs: number;
      endedBy: UtteranceEnd;
      /** The speech segment it ends. */
      segment: number;
      /** Wall clock (ms since epoch) when the VAD decided the speech ended. */
      speechEndAt: number;
      /** Arrival time passed with the packet whose processing ended it. */
      arrivalMs: number;
    }
  | {
      /** Speech detected (chunkMs > 0): a segment opens; its chunks and its speechend follow. */
      type: 'speechstart';
      id: number;
      segment: number;
      /** Stream time of the segment's first sample (pre-roll included). */
      startMs: number;
      /** Wall clock (ms since epoch) when that sample arrived, estimated from the arrival of the packet that revealed the speech. */
      at: number;
    }
  | {
      /** The next stretch of the open segment's audio (at least chunkMs, except the last), right after the previous one. */
      type: 'chunk';
      id: number;
      segment: number;
      /** 16 kHz mono. */
      samples: Int16Array;
      /** Stream time of the first sample. */
      startMs: number;
      /** Wall clock (ms since epoch) when the last sample arrived: arrival time of the packet that completed the chunk. */
      at: number;
    }
  | {
      /** The segment is over (after its last chunk). */
      type: 'speechend';
      id: number;
      segment: number;
      /** As the utterance ended, or 'discarded' when the speech never became one (too short, endless noise). */
      endedBy: SegmentEnd;
      /** Stream time of the end of the segment's streamed audio. */
      endMs: number;
      /** Stream time where its speech ended (the utterance's end). */
      lastVoicedMs: number;
      /** Wall clock (ms since epoch) when the VAD decided the segment ended. */
      speechEndAt: number;
      /** Wall-clock estimate of the last voiced sample: speechEndAt - (stream position - lastVoicedMs). */
      lastVoicedAt: number;
    }
  | { type: 'closed'; id: number; stats: TapStats }
  | { type: 'error'; id: number; message: string };

type Stream = {
  decoder: OpusDecoder;
  resampler: Resampler;
  vad: VadSegmenter;
  stats: TapStats;
  lastArrivalMs: number;
};

if (!parentPort) throw new Error('vadWorker.ts must run in a worker thread (see vadThread.ts)');
const port = parentPort;
const streams = new Map<number, Stream>();
let chain: Promise<void> = Promise.resolve();

port.on('message', (msg: ToWorker) => {
  chain = chain.then(() => handle(msg)).catch((err: unknown) => {
    post({ type: 'error', id: msg.id, message: err instanceof Error ? err.message : String(err) });
  });
});
post({ type: 'ready' });

function post(msg: FromWorker): void {
  port.postMessage(msg, msg.type === 'utterance' || msg.type === 'chunk' ? [msg.samples.buffer as ArrayBuffer] : []);
}

async function handle(msg: ToWorker): Promise<void> {
  if (msg.type === 'open') {
    if (streams.has(msg.id)) throw new Error(`stream ${msg.id} is already open`);
    const vad = await VadSegmenter.create(msg.options);
    const channels = msg.options.channels ?? 1;
    streams.set(msg.id, {
      decoder: new OpusDecoder({ sampleRate: 48000, channels }),
      resampler: new Resampler({ fromRate: 48000, toRate: VAD_SAMPLE_RATE }),
      vad,
      stats: { packets: 0, decodeErrors: 0, utterances: 0, audioMs: 0, decodeMs: 0, resampleMs: 0, vadMs: 0 },
      lastArrivalMs: 0,
    });
    post({ type: 'opened', id: msg.id });
    return;
  }
  const s = streams.get(msg.id);
  if (!s) return; // closed meanwhile
  switch (msg.type) {
    case 'audio':
      onAudio(msg.id, s, msg.payload, msg.arrivalMs);
      return;
    case 'flush':
      emit(msg.id, s, s.vad.flush());
      return;
    case 'close':
      s.decoder.close();
      s.vad.close();
      streams.delete(msg.id);
      post({ type: 'closed', id: msg.id, stats: s.stats });
      return;
  }
}

function onAudio(id: number, s: Stream, payload: Uint8Array, arrivalMs: number): void {
  const st = s.stats;
  st.packets++;
  s.lastArrivalMs = arrivalMs;
  const t0 = performance.now();
  let pcm48: Int16Array;
  try {
    const decoded = s.decoder.decode(payload);
    pcm48 = s.decoder.channels === 2 ? toMono(decoded, 2) : decoded;
  } catch {
    st.decodeErrors++;
    pcm48 = new Int16Array(960);
  }
  const t1 = performance.now();
  const pcm16 = s.resampler.process(pcm48);
  const t2 = performance.now();
  const utterances = s.vad.push(pcm16);
  const t3 = performance.now();
  st.audioMs += pcm48.length / 48;
  st.decodeMs += t1 - t0;
  st.resampleMs += t2 - t1;
  st.vadMs += t3 - t2;
  emit(id, s, utterances);
}

/** Posts what the VAD gave out: the utterances, or (when streaming) its stream events. */
function emit(id: number, s: Stream, utterances: VadUtterance[]): void {
  s.stats.utterances += utterances.length;
  if (s.vad.options.chunkMs === 0) {
    for (const u of utterances) post({ type: 'utterance', id, ...u, speechEndAt: Date.now(), arrivalMs: s.lastArrivalMs });
    return;
  }
  const posMs = s.vad.positionMs;
  for (const e of s.vad.takeStream()) {
    if (e.type === 'start') {
      post({ type: 'speechstart', id, segment: e.segment, startMs: e.startMs, at: s.lastArrivalMs - (posMs - e.startMs) });
    } else if (e.type === 'chunk') {
      post({ type: 'chunk', id, segment: e.segment, samples: e.samples, startMs: e.startMs, at: s.lastArrivalMs });
    } else {
      const speechEndAt = Date.now();
      const { type: _type, ...end } = e;
      post({ type: 'speechend', id, ...end, speechEndAt, lastVoicedAt: speechEndAt - (posMs - e.lastVoicedMs) });
    }
  }
}
