import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Histogram } from 'prom-client';
import { createEngines } from '../src/ai/engines/registry.js';
import { AiWorker } from '../src/ai/pipeline/AiWorker.js';
import type { EngineSet } from '../src/ai/types.js';
import type { Gateway } from '../src/app/gateway.js';
import { createLogger } from '../src/logger.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { inboundAudio, joinCall, launchBrowser, type ParleyBrowser } from '../src/devkit/browser.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { speechWithPauses, waitFor } from '../src/devkit/media.js';

// The clip's reference transcript (Debian's pocketsphinx-testdata):
// "and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them"
const REFERENCE_WORDS = ['mister', 'john', 'dashwood', 'leisure', 'consider', 'much', 'there', 'might', 'prudently', 'power'];

let redis: EmbeddedRedis;
let gateway: Gateway;
let engines: EngineSet;
let worker: AiWorker;
let browser: ParleyBrowser;

beforeAll(async () => {
  const log = createLogger({ level: 'warn', pretty: false });
  redis = await EmbeddedRedis.start();
  gateway = await startTestGateway(redis.url);
  engines = await createEngines({ modelsDir: '/nonexistent-models', pythonBin: '/usr/bin/python3', logger: log });
  worker = await AiWorker.create({ redisUrl: redis.url, engines, log, engineTimeoutMs: gateway.services.config.ai.engineTimeoutMs, maxAgeMs: gateway.services.config.ai.maxAgeMs });
  browser = await launchBrowser({ fakeAudioWav: speechWithPauses() });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await worker?.close();
  await engines?.close();
  await gateway?.close();
  await redis?.stop();
});

describe('speech translation in a call', () => {
  it('an English speaker is captioned and heard in Spanish by a Spanish listener', async () => {
    const a = await browser.newPage();
    const b = await browser.newPage();
    await joinCall(a, gateway.url, { roomId: 'translate', displayName: 'Ann', spokenLanguage: 'en', listeningLanguage: 'en' });
    await joinCall(b, gateway.url, { roomId: 'translate', displayName: 'Ben', spokenLanguage: 'es', listeningLanguage: 'es' });
    const idA = await a.evaluate(() => window.parley!.peerId!);

    // Final captions: Ann's words in English, and their Spanish translation.
    const captions = await waitFor(async () => {
      const all = await b.evaluate(() => window.parley!.captions());
      const fromAnn = all.filter((c) => c.speakerPeerId === idA);
      const original = fromAnn.filter((c) => c.final && c.original && c.language === 'en');
      const spanish = fromAnn.filter((c) => c.final && !c.original && c.language === 'es' && c.text.trim().length > 0);
      return original.length > 0 && spanish.length > 0 ? { original, spanish } : null;
    }, 60_000, 'English captions and their Spanish translation at the listener');
    const heard = captions.original.map((c) => c.text.toLowerCase()).join(' ');
    const matched = REFERENCE_WORDS.filter((w) => heard.includes(w));
    console.log(`[translation] recognized: "${heard}" (${matched.length}/${REFERENCE_WORDS.length} reference words)`);
    console.log(`[translation] Spanish: "${captions.spanish.map((c) => c.text).join(' | ')}"`);
    expect(matched.length).toBeGreaterThanOrEqual(2);
    expect(captions.spanish.map((c) => c.text).join(' ')).not.toBe(heard);

    // Partial captions: while Ann still speaks, her words so far and their Spanish translation (final: false),
    // later replaced by the final text of the same utterance.
    const partial = await waitFor(async () => {
      const fromAnn = (await b.evaluate(() => window.parley!.captions())).filter((c) => c.speakerPeerId === idA);
      const finals = fromAnn.filter((c) => c.final && c.original);
      for (const final of finals) {
        const before = fromAnn.filter((c) => c.utteranceId === final.utteranceId && !c.final && c.receivedAt <= final.receivedAt);
        const original = before.find((c) => c.original && c.text.trim());
        const spanish = before.find((c) => !c.original && c.language === 'es' && c.text.trim());
        if (original && spanish) return { original, spanish, final };
      }
      return null;
    }, 60_000, 'partial captions (English and Spanish) before the final caption of the same utterance');
    console.log(`[translation] partial "${partial.original.text}" / "${partial.spanish.text}" -> final "${partial.final.text}"`);
    expect(partial.final.text.length).toBeGreaterThan(0);

    // Simultaneous translation: the Spanish voice of an utterance started while its speaker was still talking
    // (the listener got captionSpoken for it, then an original partial caption of the same utterance with
    // more words than any before: words recognized after the voice started), and its Spanish captions carried
    // committed and tentative parts, the committed part growing into the final text.
    const simultaneous = await waitFor(async () => {
      const [all, spoken] = await b.evaluate(() => [window.parley!.captions(), window.parley!.spoken()] as const);
      const words = (text: string) => text.split(' ').filter(Boolean).length;
      for (const final of all.filter((c) => c.speakerPeerId === idA && c.final && c.original)) {
        const mine = all.filter((c) => c.utteranceId === final.utteranceId);
        const early = spoken.find((s) => s.utteranceId === final.utteranceId && s.language === 'es');
        if (!early) continue;
        const originals = mine.filter((c) => c.original && !c.final);
        const before = Math.max(0, ...originals.filter((c) => c.receivedAt <= early.receivedAt).map((c) => words(c.text)));
        const later = originals.find((c) => c.receivedAt > early.receivedAt && words(c.text) > before);
        const spanish = mine.filter((c) => !c.original && c.language === 'es');
        const finalEs = spanish.find((c) => c.final);
        const partials = spanish.filter((c) => !c.final);
        const tentative = partials.find((c) => (c.committed ?? '').length > 0 && c.text.length > (c.committed ?? '').length);
        if (later && finalEs && tentative) return { early, later, final, finalEs, partials };
      }
      return null;
    }, 60_000, 'an utterance whose Spanish voice started while it was spoken, with committed and tentative captions');
    console.log(`[translation] voice started "${simultaneous.early.text}"; then the speaker was heard saying "${simultaneous.later.text}"; Spanish final "${simultaneous.finalEs.text}"`);
    let committed = '';
    for (const c of simultaneous.partials) {
      expect(c.text.startsWith(c.committed ?? '')).toBe(true);
      if ((c.committed ?? '').length >= committed.length) committed = c.committed ?? '';
    }
    expect(simultaneous.finalEs.text.startsWith(committed)).toBe(true);

    // The translated voice: a producer of Ann with source translation:es, received with speech energy.
    const translated = await waitFor(async () => {
      const peer = (await b.evaluate(() => window.parley!.peers())).find((p) => p.peerId === idA);
      const voice = peer?.producers.find((p) => p.source === 'translation:es');
      if (!voice) return null;
      const stats = (await inboundAudio(b)).find((s) => s.producerId === voice.producerId);
      return stats && stats.bytesReceived > 0 && stats.totalAudioEnergy > 0 ? stats : null;
    }, 60_000, 'the Spanish voice of Ann at the listener');
    expect(translated.totalAudioEnergy).toBeGreaterThan(0);

    // The per-stage timings of those utterances, as the gateway measured them.
    // An utterance is timed when its last words start playing (simultaneous translation: the last segment).
    const registry = gateway.services.metrics.registry;
    const e2eCount = async () => (await (registry.getSingleMetric('parley_ai_end_to_end_seconds') as Histogram).get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    await waitFor(async () => ((await e2eCount()) > 0 ? true : null), 30_000, 'a timed utterance (its last words played)');
    const e2e = (await (registry.getSingleMetric('parley_ai_end_to_end_seconds') as Histogram).get()).values;
    const stages = (await (registry.getSingleMetric('parley_ai_stage_seconds') as Histogram).get()).values;
    const mean = (vals: typeof e2e, label?: string) => {
      const sum = vals.find((v) => v.metricName?.endsWith('_sum') && (!label || v.labels.stage === label))?.value ?? 0;
      const count = vals.find((v) => v.metricName?.endsWith('_count') && (!label || v.labels.stage === label))?.value ?? 0;
      return count ? `${Math.round((sum / count) * 1000)} ms (n=${count})` : 'n/a';
    };
    console.log(`[translation] end of speech -> first translated packet: mean ${mean(e2e)}; stages: ${['endpoint', 'stt', 'translate', 'tts', 'playout'].map((s) => `${s} ${mean(stages, s)}`).join(', ')}`);
    expect(e2e.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0).toBeGreaterThan(0);
  });
});
