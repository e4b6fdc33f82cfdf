/**
 * Production translation: an OPUS-MT (Marian) encoder-decoder exported to ONNX, run with onnxruntime-node,
 * greedy decoding, with a SentencePiece-Unigram tokenizer read from the model's tokenizer.json.
 *
 * UNTESTED WITH REAL MODELS: none can be downloaded where this was written. The tests cover the
 * tokenizer (on a small hand-made vocabulary) and the fail-fast path when the model is missing. Decoding
 * uses the decoder without past key/values (decoder_model*.onnx): every step re-runs the whole prefix,
 * O(n^2) but simple and fine for one spoken sentence; a with-past decoder is the next optimisation.
 * Known gap: the tokenizer applies NFKC instead of the model's precompiled SentencePiece normaliser.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InferenceSession, Tensor } from 'onnxruntime-node';
import { createError, Errors, InvalidStateError } from '../../errors.js';
import type { CatalogEntry } from '../models/catalog.js';
import { requireModelFiles } from '../models/download.js';
import type { TranslateEngine } from '../types.js';

const SPACE = '\u2581'; // SentencePiece's word-boundary mark
const MAX_PIECE_CHARS = 24;

type TokenizerJson = {
  model: { type: string; vocab: Array<[string, number]>; unk_id?: number | null };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
};

/** SentencePiece Unigram segmentation (Viterbi over piece log-probabilities) as in HF tokenizer.json files. */
export class UnigramTokenizer {
  private readonly ids = new Map<string, number>();
  private readonly scores: number[];
  private readonly pieces: string[];
  private readonly special = new Set<number>();
  private readonly unkId: number;
  private readonly unkScore: number;

  constructor(json: TokenizerJson) {
    if (json.model.type !== 'Unigram') throw new TypeError(`tokenizer model type ${json.model.type} is not supported (Unigram only)`);
    this.pieces = json.model.vocab.map(([p]) => p);
    this.scores = json.model.vocab.map(([, s]) => s);
    this.pieces.forEach((p, id) => this.ids.set(p, id));
    for (const t of json.added_tokens ?? []) if (t.special) this.special.add(t.id);
    this.unkId = json.model.unk_id ?? this.ids.get('<unk>') ?? 0;
    this.special.add(this.unkId);
    this.unkScore = Math.min(...this.scores) - 10;
  }

  idOf(piece: string): number | undefined {
    return this.ids.get(piece);
  }

  encode(text: string): number[] {
    const clean = text.normalize('NFKC').replace(/\s+/g, ' ').trim();
    if (clean === '') return [];
    const out: number[] = [];
    for (const word of `${SPACE}${clean.replaceAll(' ', SPACE)}`.split(new RegExp(`(?=${SPACE})`))) out.push(...this.segment(Array.from(word)));
    return out;
  }

  decode(ids: number[]): string {
    return ids
      .filter((id) => !this.special.has(id))
      .map((id) => this.pieces[id] ?? '')
      .join('')
      .replaceAll(SPACE, ' ')
      .trim();
  }

  /** Best-scoring segmentation of one word (code points); a character no piece covers becomes <unk>. */
  private segment(chars: string[]): number[] {
    const best = new Array<number>(chars.length + 1).fill(-Infinity);
    const back = new Array<{ start: number; id: number }>(chars.length + 1);
    best[0] = 0;
    for (let end = 1; end <= chars.length; end++) {
      for (let start = Math.max(0, end - MAX_PIECE_CHARS); start < end; start++) {
        if (best[start] === -Infinity) continue;
        const id = this.ids.get(chars.slice(start, end).join(''));
        const single = end - start === 1;
        if (id === undefined && !single) continue;
        const score = best[start]! + (id === undefined ? this.unkScore : this.scores[id]!);
        if (score > best[end]!) {
          best[end] = score;
          back[end] = { start, id: id ?? this.unkId };
        }
      }
    }
    const ids: number[] = [];
    for (let pos = chars.length; pos > 0; pos = back[pos]!.start) ids.push(back[pos]!.id);
    return ids.reverse();
  }
}

type MarianConfig = { decoder_start_token_id: number; eos_token_id: number; pad_token_id: number; max_length?: number };

export class OpusMtTranslate implements TranslateEngine {
  readonly id: string;
  readonly pairs: ReadonlyArray<readonly [string, string]>;
  private closed = false;

  private constructor(
    entry: CatalogEntry,
    private readonly ort: typeof import('onnxruntime-node'),
    private readonly encoder: InferenceSession,
    private readonly decoder: InferenceSession,
    private readonly tokenizer: UnigramTokenizer,
    private readonly config: MarianConfig,
  ) {
    this.id = `opus-mt:${entry.name}`;
    this.pairs = [[entry.languages[0]!, entry.languages[1]!]];
  }

  /** Loads a catalog OPUS-MT model from `<modelsDir>/<name>`; ERR_MODEL_MISSING at once when its files are absent. */
  static async create(entry: CatalogEntry, options: { modelsDir: string; numThreads?: number }): Promise<OpusMtTranslate> {
    const dir = requireModelFiles(entry, options.modelsDir);
    const layout = entry.layout;
    if (layout.engine !== 'opus-mt') throw new TypeError(`${entry.name} is not an OPUS-MT model (${layout.engine})`);
    const tokenizer = new UnigramTokenizer(JSON.parse(await readFile(join(dir, layout.tokenizer), 'utf8')) as TokenizerJson);
    const config = JSON.parse(await readFile(join(dir, layout.config), 'utf8')) as MarianConfig;
    const ort = await import('onnxruntime-node');
    const opts = { intraOpNumThreads: options.numThreads ?? 2 };
    const [encoder, decoder] = await Promise.all([
      ort.InferenceSession.create(join(dir, layout.encoder), opts),
      ort.InferenceSession.create(join(dir, layout.decoder), opts),
    ]);
    if (decoder.inputNames.includes('use_cache_branch')) throw new TypeError(`${layout.decoder} is a merged with-past decoder; use decoder_model*.onnx`);
    return new OpusMtTranslate(entry, ort, encoder, decoder, tokenizer, config);
  }

  async translate(text: string, from: string, to: string): Promise<{ text: string }> {
    if (this.closed) throw new InvalidStateError(`${this.id} is closed`);
    const [pairFrom, pairTo] = this.pairs[0]!;
    if (from !== pairFrom || to !== pairTo) throw createError(Errors.UNSUPPORTED_LANGUAGE, `${this.id} translates ${pairFrom}->${pairTo}, not ${from}->${to}`);
    const source = this.tokenizer.encode(text);
    if (source.length === 0) return { text: '' };
    source.push(this.config.eos_token_id);
    const int64 = (values: number[]): Tensor => new this.ort.Tensor('int64', BigInt64Array.from(values.map(BigInt)), [1, values.length]);
    const mask = int64(source.map(() => 1));
    const { last_hidden_state: hidden } = await this.encoder.run({ input_ids: int64(source), attention_mask: mask });
    const out = [this.config.decoder_start_token_id];
    const maxNew = Math.min(this.config.max_length ?? 512, 2 * source.length + 16);
    for (let step = 0; step < maxNew; step++) {
      const { logits } = await this.decoder.run({ input_ids: int64(out), encoder_hidden_states: hidden!, encoder_attention_mask: mask });
      const next = argmaxLastRow(logits!, this.config.pad_token_id);
      if (next === this.config.eos_token_id) break;
      out.push(next);
    }
    return { text: this.tokenizer.decode(out.slice(1)) };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.encoder.release(), this.decoder.release()]);
  }
}

/** Index of the highest logit in the last position of a [1, steps, vocab] tensor, never `banned` (Marian never emits pad). */
function argmaxLastRow(logits: Tensor, banned: number): number {
  const [, steps, vocab] = logits.dims as number[];
  const data = logits.data as Float32Array;
  const offset = (steps! - 1) * vocab!;
  let best = -1;
  let bestValue = -Infinity;
  for (let i = 0; i < vocab!; i++) {
    if (i !== banned && data[offset + i]! > bestValue) {
      bestValue = data[offset + i]!;
      best = i;
    }
  }
  return best;
}
