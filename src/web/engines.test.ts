import { describe, expect, it } from 'vitest';
import { EngineStatus, parseDirectory, translationSummary, type EngineDirectoryView } from './engines.js';

const DIR: EngineDirectoryView = {
  workers: 2,
  engines: [
    { stage: 'stt', language: 'en', engine: 'pocketsphinx:en-us', workers: 2 },
    { stage: 'stt', language: 'fr', engine: 'sherpa-onnx:whisper-base', workers: 1 },
    { stage: 'stt', language: 'vi', engine: 'sherpa-onnx:whisper-base', workers: 1 },
    { stage: 'translate', language: 'en-es', engine: 'apertium', workers: 1 },
    { stage: 'translate', language: 'en-es', engine: 'opus-mt:en-es', workers: 2 },
    { stage: 'translate', language: 'fr-es', engine: 'apertium', workers: 1 },
    { stage: 'translate', language: 'es-fr', engine: 'apertium', workers: 1 },
    { stage: 'tts', language: 'es', engine: 'espeak-ng', workers: 2 },
  ],
};

describe('translationSummary', () => {
  it('names the engines of the pair, the most widely run one per stage, without model suffixes', () => {
    expect(translationSummary(DIR, 'es', ['en'])).toBe('Translation: en \u2192 es (pocketsphinx \u2192 opus-mt \u2192 espeak-ng)');
  });

  it('lists each other spoken language once, and skips speakers who already speak my language', () => {
    expect(translationSummary(DIR, 'es', ['fr', 'en', 'es', 'en'])).toBe(
      'Translation: en \u2192 es (pocketsphinx \u2192 opus-mt \u2192 espeak-ng), fr \u2192 es (sherpa-onnx \u2192 apertium \u2192 espeak-ng)',
    );
    expect(translationSummary(DIR, 'es', ['es'])).toBe('');
    expect(translationSummary(DIR, 'es', [])).toBe('');
  });

  it('says which pairs no engine translates', () => {
    expect(translationSummary(DIR, 'en', ['vi'])).toBe('No translation engine for vi \u2192 en');
    expect(translationSummary(DIR, 'es', ['en', 'vi'])).toBe(
      'Translation: en \u2192 es (pocketsphinx \u2192 opus-mt \u2192 espeak-ng) \u00b7 No translation engine for vi \u2192 es',
    );
  });

  it('says captions only when no voice speaks the listening language', () => {
    expect(translationSummary(DIR, 'fr', ['es'])).toBe('No translation engine for es \u2192 fr'); // no stt for es
    const withEsStt = { ...DIR, engines: [...DIR.engines, { stage: 'stt' as const, language: 'es', engine: 'pocketsphinx:es', workers: 1 }] };
    expect(translationSummary(withEsStt, 'fr', ['es'])).toBe('Translation: es \u2192 fr (pocketsphinx \u2192 apertium; captions only, no voice)');
  });

  it('says so when no AI worker runs', () => {
    expect(translationSummary({ workers: 0, engines: [] }, 'es', ['en'])).toBe('No AI worker running');
  });
});

describe('parseDirectory', () => {
  it('keeps well-formed rows and refuses other shapes', () => {
    expect(parseDirectory({ workers: 1, engines: [DIR.engines[0], { stage: 'x' }, null] })).toEqual({ workers: 1, engines: [DIR.engines[0]] });
    expect(parseDirectory({ error: { code: 'ERR_NOT_READY' } })).toBeNull();
    expect(parseDirectory(null)).toBeNull();
  });
});

describe('EngineStatus', () => {
  it('fetches once per replica and language set, and shows the summary', async () => {
    const el = { textContent: '', hidden: false, dataset: {} as Record<string, string> } as unknown as HTMLElement;
    const asked: string[] = [];
    const fetchImpl = (async (url: URL) => {
      asked.push(String(url));
      return new Response(JSON.stringify(DIR), { status: 200 });
    }) as unknown as typeof fetch;
    const status = new EngineStatus(el, fetchImpl);
    expect(el.hidden).toBe(true);
    status.update('http://a:1', 'es', ['en']);
    status.update('http://a:1', 'es', ['en', 'en']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(asked).toEqual(['http://a:1/ai/engines']);
    expect(el.textContent).toContain('Translation: en \u2192 es');
    expect(el.hidden).toBe(false);
    status.update('http://a:1', 'en', ['vi']);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(asked).toHaveLength(2);
    expect(el.textContent).toBe('No translation engine for vi \u2192 en');
    expect(el.dataset['state']).toBe('missing');
    status.clear();
    expect(el.hidden).toBe(true);
  });
});
