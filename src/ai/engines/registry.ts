/**
 * Chooses the engine for every language and pair an AI worker serves (the composition root for engines).
 *
 * Per language: the production engine (sherpa-onnx / onnxruntime) when its model is installed in
 * `modelsDir`, otherwise the offline one (pocketsphinx, apertium, espeak-ng); `prefer: 'offline'` turns
 * that around. An engine that fails to start is logged and skipped, so a missing model or Debian package
 * takes away only what it serves. Engines that would serve nothing new are not started at all.
 */
import { createError, Errors } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { CATALOG, type CatalogEntry } from '../models/catalog.js';
import { isInstalled } from '../models/download.js';
import type { EngineSet, SttEngine, TranslateEngine, TtsEngine } from '../types.js';
import { ApertiumTranslate } from './apertium.js';
import { EspeakTts } from './espeak.js';
import { OpusMtTranslate } from './onnxTranslate.js';
import { PocketsphinxStt } from './pocketsphinx.js';
import { SherpaStt, SherpaTts } from './sherpa.js';

export type EngineConfig = {
  /** Directory of installed production models (one sub-directory per catalog name). */
  modelsDir: string;
  /** Interpreter with the pocketsphinx module (Debian: /usr/bin/python3). */
  pythonBin: string;
  /** Speech recognition: streaming (decode while spoken) or batch (whole utterances), and sessions at once per engine. */
  stt?: SttOptions;
  /** Which kind wins where both serve a language (default 'production'). */
  prefer?: 'offline' | 'production';
  /** Where engines that could not start are reported. */
  logger?: Pick<Logger, 'warn' | 'info'>;
  /** Replaces engine constructors (tests, or a worker that wants other options). */
  factories?: Partial<EngineFactories>;
};

export type SttOptions = { mode: 'streaming' | 'batch'; sessions: number };

export type EngineFactories = {
  pocketsphinx(pythonBin: string, stt?: SttOptions): Promise<SttEngine>;
  apertium(): Promise<TranslateEngine>;
  espeak(): Promise<TtsEngine>;
  sherpaStt(entry: CatalogEntry, modelsDir: string): Promise<SttEngine>;
  sherpaTts(entry: CatalogEntry, modelsDir: string): Promise<TtsEngine>;
  opusMt(entry: CatalogEntry, modelsDir: string): Promise<TranslateEngine>;
};

export const DEFAULT_FACTORIES: EngineFactories = {
  pocketsphinx: (pythonBin, stt) => PocketsphinxStt.create({ pythonBin, ...stt }),
  apertium: () => ApertiumTranslate.create({ warm: true }),
  espeak: () => EspeakTts.create(),
  sherpaStt: (entry, modelsDir) => SherpaStt.create(entry, { modelsDir }),
  sherpaTts: (entry, modelsDir) => SherpaTts.create(entry, { modelsDir }),
  opusMt: (entry, modelsDir) => OpusMtTranslate.create(entry, { modelsDir }),
};

type Stage = 'stt' | 'translate' | 'tts';
type AnyEngine = SttEngine | TranslateEngine | TtsEngine;
type Candidate = {
  stage: Stage;
  name: string;
  kind: 'offline' | 'production';
  /** Languages (or "from>to" pairs) it will serve, when known before starting it. */
  keys?: string[];
  create(): Promise<AnyEngine>;
};

const STAGE_NAMES: Record<Stage, string> = { stt: 'speech recognition', translate: 'translation', tts: 'speech synthesis' };

function keysOf(stage: Stage, engine: AnyEngine): string[] {
  return stage === 'translate' ? (engine as TranslateEngine).pairs.map(([a, b]) => `${a}>${b}`) : [...(engine as SttEngine | TtsEngine).languages];
}

/** The engines of one AI worker. */
export class RegistryEngineSet implements EngineSet {
  private closed = false;

  constructor(
    private readonly chosen: Record<Stage, Map<string, AnyEngine>>,
    /** Engines that could not start, and why. */
    readonly unavailable: ReadonlyArray<{ stage: Stage; engine: string; reason: string }>,
  ) {}

  stt(language: string): SttEngine {
    return this.pick('stt', language) as SttEngine;
  }

  translate(from: string, to: string): TranslateEngine {
    return this.pick('translate', `${from}>${to}`) as TranslateEngine;
  }

  tts(language: string): TtsEngine {
    return this.pick('tts', language) as TtsEngine;
  }

  describe(): Array<{ stage: Stage; language: string; engine: string }> {
    const rows: Array<{ stage: Stage; language: string; engine: string }> = [];
    for (const stage of ['stt', 'translate', 'tts'] as const) {
      for (const [key, engine] of [...this.chosen[stage]].sort(([a], [b]) => a.localeCompare(b))) {
        rows.push({ stage, language: key.replace('>', '-'), engine: engine.id });
      }
    }
    return rows;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const engines = new Set<AnyEngine>(Object.values(this.chosen).flatMap((m) => [...m.values()]));
    await Promise.allSettled([...engines].map((e) => e.close()));
  }

  private pick(stage: Stage, key: string): AnyEngine {
    const engine = this.chosen[stage].get(key);
    if (engine) return engine;
    const served = [...this.chosen[stage].keys()].map((k) => k.replace('>', '->')).sort().join(', ') || 'none';
    const down = this.unavailable.filter((u) => u.stage === stage).map((u) => `${u.engine}: ${u.reason}`);
    const what = key.replace('>', '->');
    throw createError(
      Errors.UNSUPPORTED_LANGUAGE,
      `no ${STAGE_NAMES[stage]} engine for "${what}" (served: ${served})${down.length ? `; not running: ${down.join('; ')}` : ''}`,
      { stage, language: what },
    );
  }
}

/** Starts the engines for every language that can be served and returns the chosen set. */
export async function createEngines(config: EngineConfig): Promise<RegistryEngineSet> {
  const f: EngineFactories = { ...DEFAULT_FACTORIES, ...config.factories };
  const production: Candidate[] = CATALOG.filter((entry) => isInstalled(entry, config.modelsDir)).map((entry) => ({
    stage: entry.stage,
    name: entry.name,
    kind: 'production' as const,
    keys: entry.stage === 'translate' ? [`${entry.languages[0]}>${entry.languages[1]}`] : [...entry.languages],
    create: () =>
      entry.stage === 'stt' ? f.sherpaStt(entry, config.modelsDir) : entry.stage === 'tts' ? f.sherpaTts(entry, config.modelsDir) : f.opusMt(entry, config.modelsDir),
  }));
  const offline: Candidate[] = [
    { stage: 'stt', name: 'pocketsphinx', kind: 'offline', keys: ['en'], create: () => f.pocketsphinx(config.pythonBin, config.stt) },
    { stage: 'translate', name: 'apertium', kind: 'offline', create: () => f.apertium() },
    { stage: 'tts', name: 'espeak-ng', kind: 'offline', create: () => f.espeak() },
  ];
  const ordered = (config.prefer ?? 'production') === 'production' ? [...production, ...offline] : [...offline, ...production];

  const chosen: Record<Stage, Map<string, AnyEngine>> = { stt: new Map(), translate: new Map(), tts: new Map() };
  const unavailable: Array<{ stage: Stage; engine: string; reason: string }> = [];
  // One at a time, in preference order: whether a later engine is needed depends on what earlier ones serve.
  for (const candidate of ordered) {
    const served = chosen[candidate.stage];
    if (candidate.keys && candidate.keys.every((k) => served.has(k))) continue;
    let engine: AnyEngine;
    try {
      engine = await candidate.create();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      unavailable.push({ stage: candidate.stage, engine: candidate.name, reason });
      config.logger?.warn({ stage: candidate.stage, engine: candidate.name, err: reason }, 'engine unavailable');
      continue;
    }
    const added = keysOf(candidate.stage, engine).filter((k) => !served.has(k));
    for (const k of added) served.set(k, engine);
    if (added.length === 0) await engine.close();
    else config.logger?.info({ stage: candidate.stage, engine: engine.id, kind: candidate.kind, serves: added }, 'engine ready');
  }
  return new RegistryEngineSet(chosen, unavailable);
}
