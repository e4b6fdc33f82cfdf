/**
 * The production models Parley knows how to fetch and load. Data only: download.ts fetches and checks them,
 * sherpa.ts / onnxTranslate.ts read the files named in `layout`, the registry matches `languages`.
 *
 * A model lives in `<modelsDir>/<name>/`. Archives from the sherpa-onnx GitHub releases unpack to a
 * top-level directory named like the archive, so their catalog name is the archive's base name.
 * `sha256` is set only where the publisher gives one; none are known for these yet, so download and verify
 * fall back to the manifest written at install time (see download.ts). Sizes are approximate: the sum of
 * the files the engine loads, from the publisher's file listing.
 */

export type ModelStage = 'stt' | 'translate' | 'tts';

/** Which loader reads the model, and the files it reads (relative to the model's directory). */
export type ModelLayout =
  | { engine: 'sherpa-online-transducer'; encoder: string; decoder: string; joiner: string; tokens: string }
  | { engine: 'sherpa-offline-transducer'; encoder: string; decoder: string; joiner: string; tokens: string }
  | { engine: 'sherpa-whisper'; encoder: string; decoder: string; tokens: string }
  | { engine: 'sherpa-vits'; model: string; tokens: string; dataDir: string }
  | { engine: 'opus-mt'; encoder: string; decoder: string; tokenizer: string; config: string };

export type ModelSource =
  /** A .tar.bz2 whose top-level directory is the model's name. */
  | { kind: 'archive'; url: string; sha256?: string }
  /** Individual files, each saved at `path` inside the model's directory. */
  | { kind: 'files'; files: Array<{ url: string; path: string; sha256?: string }> };

export type CatalogEntry = {
  name: string;
  stage: ModelStage;
  /** STT/TTS: the languages served. Translate: [from, to]. */
  languages: readonly string[];
  description: string;
  /** Approximate size of the files the engine loads (MB). */
  approxSizeMB: number;
  license: string;
  /** Where the model is published (for people; downloads use `source`). */
  homepage: string;
  source: ModelSource;
  layout: ModelLayout;
};

const SHERPA_ASR = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/asr-models';
const SHERPA_TTS = 'https://github.com/k2-fsa/sherpa-onnx/releases/download/tts-models';

function piper(voice: string, language: string, description: string): CatalogEntry {
  const name = `vits-piper-${voice}`;
  return {
    name,
    stage: 'tts',
    languages: [language],
    description,
    approxSizeMB: 64,
    license: 'MIT (piper voices; see the voice MODEL_CARD)',
    homepage: `https://huggingface.co/csukuangfj/${name}`,
    source: { kind: 'archive', url: `${SHERPA_TTS}/${name}.tar.bz2` },
    layout: { engine: 'sherpa-vits', model: `${voice}.onnx`, tokens: 'tokens.txt', dataDir: 'espeak-ng-data' },
  };
}

function opusMt(from: string, to: string, approxSizeMB: number): CatalogEntry {
  const repo = `https://huggingface.co/Xenova/opus-mt-${from}-${to}`;
  const files = ['onnx/encoder_model_quantized.onnx', 'onnx/decoder_model_quantized.onnx', 'tokenizer.json', 'config.json'];
  return {
    name: `opus-mt-${from}-${to}`,
    stage: 'translate',
    languages: [from, to],
    description: `OPUS-MT (Marian) ${from}->${to}, int8 ONNX export for onnxruntime`,
    approxSizeMB,
    license: 'CC-BY-4.0 (Helsinki-NLP OPUS-MT)',
    homepage: repo,
    source: { kind: 'files', files: files.map((path) => ({ url: `${repo}/resolve/main/${path}`, path })) },
    layout: { engine: 'opus-mt', encoder: files[0]!, decoder: files[1]!, tokenizer: files[2]!, config: files[3]! },
  };
}

export const CATALOG: readonly CatalogEntry[] = [
  {
    name: 'sherpa-onnx-streaming-zipformer-en-2023-06-26',
    stage: 'stt',
    languages: ['en'],
    description: 'Streaming zipformer transducer, English (int8 encoder)',
    approxSizeMB: 74,
    license: 'Apache-2.0',
    homepage: 'https://huggingface.co/csukuangfj/sherpa-onnx-streaming-zipformer-en-2023-06-26',
    source: { kind: 'archive', url: `${SHERPA_ASR}/sherpa-onnx-streaming-zipformer-en-2023-06-26.tar.bz2` },
    layout: {
      engine: 'sherpa-online-transducer',
      encoder: 'encoder-epoch-99-avg-1-chunk-16-left-64.int8.onnx',
      decoder: 'decoder-epoch-99-avg-1-chunk-16-left-64.onnx',
      joiner: 'joiner-epoch-99-avg-1-chunk-16-left-64.int8.onnx',
      tokens: 'tokens.txt',
    },
  },
  {
    name: 'sherpa-onnx-zipformer-vi-30M-int8-2026-02-09',
    stage: 'stt',
    languages: ['vi'],
    description: 'Zipformer transducer (30M, int8), Vietnamese, ~6000 h of training speech; non-streaming',
    approxSizeMB: 32,
    license: 'see https://huggingface.co/hynt/Zipformer-30M-RNNT-6000h',
    homepage: 'https://k2-fsa.github.io/sherpa/onnx/pretrained_models/offline-transducer/zipformer-transducer-models.html',
    source: { kind: 'archive', url: `${SHERPA_ASR}/sherpa-onnx-zipformer-vi-30M-int8-2026-02-09.tar.bz2` },
    layout: { engine: 'sherpa-offline-transducer', encoder: 'encoder.int8.onnx', decoder: 'decoder.onnx', joiner: 'joiner.int8.onnx', tokens: 'tokens.txt' },
  },
  {
    name: 'sherpa-onnx-whisper-tiny',
    stage: 'stt',
    languages: ['en', 'es', 'fr', 'de', 'vi'],
    description: 'Whisper tiny (multilingual, int8), non-streaming; language detected per utterance',
    approxSizeMB: 103,
    license: 'MIT (OpenAI Whisper)',
    homepage: 'https://huggingface.co/csukuangfj/sherpa-onnx-whisper-tiny',
    source: { kind: 'archive', url: `${SHERPA_ASR}/sherpa-onnx-whisper-tiny.tar.bz2` },
    layout: { engine: 'sherpa-whisper', encoder: 'tiny-encoder.int8.onnx', decoder: 'tiny-decoder.int8.onnx', tokens: 'tiny-tokens.txt' },
  },
  piper('en_US-amy-medium', 'en', 'Piper VITS voice, US English (amy, medium)'),
  piper('es_ES-davefx-medium', 'es', 'Piper VITS voice, Spanish (davefx, medium)'),
  piper('vi_VN-vais1000-medium', 'vi', 'Piper VITS voice, Vietnamese (vais1000, medium)'),
  opusMt('en', 'es', 119),
  opusMt('es', 'en', 115),
  opusMt('en', 'vi', 103),
];

export function findModel(name: string): CatalogEntry | undefined {
  return CATALOG.find((m) => m.name === name);
}

/** Files (and the VITS data directory) that must exist under the model's directory for the engine to load. */
export function requiredFiles(entry: CatalogEntry): string[] {
  const { engine: _engine, ...files } = entry.layout;
  return Object.values(files);
}
