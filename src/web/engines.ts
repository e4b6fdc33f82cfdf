/**
 * The line under the call controls that says which engines translate what the others say into the
 * language I hear, from `GET /ai/engines` of the replica in use. Fetched on join and again when the
 * languages involved (mine or the others') or the replica change; a failed fetch hides the line.
 */

/** The body of `GET /ai/engines` (translate rows use 'from-to' as language). */
export type EngineDirectoryView = {
  workers: number;
  engines: ReadonlyArray<{ stage: 'stt' | 'translate' | 'tts'; language: string; engine: string; workers: number }>;
};

/** The engine most workers run for a stage and language, without its model suffix ('pocketsphinx:en-us' -> 'pocketsphinx'). */
function engineFor(dir: EngineDirectoryView, stage: 'stt' | 'translate' | 'tts', language: string): string | null {
  let best: { engine: string; workers: number } | null = null;
  for (const row of dir.engines) {
    if (row.stage === stage && row.language === language && (!best || row.workers > best.workers)) best = row;
  }
  return best ? (best.engine.split(':')[0] ?? best.engine) : null;
}

/**
 * What to show for the pairs (each other speaker's spoken language -> my listening language), or ''
 * when nothing needs translating. Pure, so it is tested without a page.
 */
export function translationSummary(dir: EngineDirectoryView, listening: string, spoken: readonly string[]): string {
  if (dir.workers === 0) return 'No AI worker running';
  const sources = [...new Set(spoken)].filter((from) => from !== listening).sort();
  const parts = sources.map((from) => {
    const pair = `${from} \u2192 ${listening}`;
    const stt = engineFor(dir, 'stt', from);
    const mt = engineFor(dir, 'translate', `${from}-${listening}`);
    if (!stt || !mt) return `No translation engine for ${pair}`;
    const tts = engineFor(dir, 'tts', listening);
    return tts ? `${pair} (${stt} \u2192 ${mt} \u2192 ${tts})` : `${pair} (${stt} \u2192 ${mt}; captions only, no voice)`;
  });
  const served = parts.filter((p) => !p.startsWith('No '));
  const missing = parts.filter((p) => p.startsWith('No '));
  return [...(served.length > 0 ? [`Translation: ${served.join(', ')}`] : []), ...missing].join(' \u00b7 ');
}

/** Parses a `/ai/engines` body, or null when it does not have the expected shape. */
export function parseDirectory(body: unknown): EngineDirectoryView | null {
  const b = body as Partial<EngineDirectoryView> | null;
  if (!b || typeof b.workers !== 'number' || !Array.isArray(b.engines)) return null;
  const engines = b.engines.filter(
    (r) => r && ['stt', 'translate', 'tts'].includes(r.stage) && typeof r.language === 'string' && typeof r.engine === 'string' && typeof r.workers === 'number',
  );
  return { workers: b.workers, engines };
}

/** Keeps one element's text in step with the call's languages. */
export class EngineStatus {
  readonly #el: HTMLElement;
  readonly #fetch: typeof fetch;
  /** What the shown text was built from: base URL and languages. */
  #key = '';
  /** Bumped per fetch so a slow answer for old languages is ignored. */
  #seq = 0;

  constructor(el: HTMLElement, fetchImpl: typeof fetch = fetch.bind(globalThis)) {
    this.#el = el;
    this.#fetch = fetchImpl;
    el.hidden = true;
  }

  /** Refetches when the replica or the languages changed; otherwise does nothing. */
  update(base: string, listening: string, spoken: readonly string[]): void {
    const key = JSON.stringify([base, listening, [...new Set(spoken)].sort()]);
    if (key === this.#key) return;
    this.#key = key;
    const seq = ++this.#seq;
    void this.#load(base).then((dir) => {
      if (seq !== this.#seq) return;
      this.#show(dir ? translationSummary(dir, listening, spoken) : '');
    });
  }

  /** Hides the line (left the call). */
  clear(): void {
    this.#key = '';
    this.#seq++;
    this.#show('');
  }

  async #load(base: string): Promise<EngineDirectoryView | null> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), 3_000);
    try {
      const res = await this.#fetch(new URL('ai/engines', base.endsWith('/') ? base : `${base}/`), { signal: controller.signal, headers: { accept: 'application/json' } });
      return res.ok ? parseDirectory(await res.json()) : null;
    } catch {
      return null;
    } finally {
      clearTimeout(timer);
    }
  }

  #show(text: string): void {
    this.#el.textContent = text;
    this.#el.hidden = text === '';
    this.#el.dataset['state'] = text.startsWith('No ') || text.includes('\u00b7 No ') ? 'missing' : 'ok';
  }
}
