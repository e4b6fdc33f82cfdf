/**
 * Live captions, the pure part: validating `caption` notifications, grouping them by utterance
 * and choosing what this listener sees (the speaker's words plus their translation into our
 * listening language). No DOM here; captions-panel.ts draws the result.
 */

import type { NotificationMap } from '../protocol/messages.js';

export type CaptionNotice = NotificationMap['caption'];
/** A caption notification as received, for the debug hook. */
export type CaptionRecord = CaptionNotice & { receivedAt: number };

/**
 * One text of an utterance: the original words or one translation. `committed` is the prefix that will
 * not change (simultaneous translation; the rest is tentative, shown greyed); `spoken` what its translated
 * voice has started saying, from the start.
 */
export type CaptionText = { language: string; text: string; final: boolean; committed?: string; spoken?: string };

/** Everything received about one utterance, every language kept (the listening language can change). */
export type Utterance = {
  utteranceId: string;
  speakerPeerId: string;
  original: CaptionText | null;
  /** Translations by lower-cased language code. */
  translations: Readonly<Record<string, CaptionText>>;
  firstAt: number;
  updatedAt: number;
};

/** What the panel shows for one utterance. */
export type CaptionLine = {
  utteranceId: string;
  speakerPeerId: string;
  speaker: string;
  self: boolean;
  original: CaptionText | null;
  /** The translation into our listening language, once it arrived (never when the original is already in it). */
  translation: CaptionText | null;
  /** Every text shown is final. */
  final: boolean;
};

export type Speakers = {
  /** Our own peer ids (a reconnect may bring a new one). */
  self: ReadonlySet<string>;
  /** Display names by peer id, including peers who have left since. */
  names: ReadonlyMap<string, string>;
};

export const MAX_UTTERANCES = 50;
export const MAX_CAPTION_LOG = 500;
export const SELF_NAME = 'You';
export const UNKNOWN_SPEAKER = 'Participant';

/** The notification's data if it has the documented shape, else null. */
export function parseCaption(data: unknown): CaptionNotice | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  const strings = [d['utteranceId'], d['speakerPeerId'], d['language'], d['text']];
  if (!strings.every((s) => typeof s === 'string') || d['utteranceId'] === '') return null;
  if (typeof d['original'] !== 'boolean' || typeof d['final'] !== 'boolean') return null;
  const committed = typeof d['committed'] === 'string' && (d['text'] as string).startsWith(d['committed']) ? d['committed'] : undefined;
  return {
    utteranceId: d['utteranceId'] as string,
    speakerPeerId: d['speakerPeerId'] as string,
    language: d['language'] as string,
    text: d['text'] as string,
    original: d['original'],
    final: d['final'],
    ...(committed !== undefined ? { committed } : {}),
  };
}

export type SpokenNotice = NotificationMap['captionSpoken'];
/** A captionSpoken notification as received, for the debug hook. */
export type SpokenRecord = SpokenNotice & { receivedAt: number };

/** The `captionSpoken` notification's data if it has the documented shape, else null. */
export function parseSpoken(data: unknown): SpokenNotice | null {
  if (typeof data !== 'object' || data === null) return null;
  const d = data as Record<string, unknown>;
  const fields = [d['utteranceId'], d['speakerPeerId'], d['language'], d['text']];
  if (!fields.every((s) => typeof s === 'string') || d['utteranceId'] === '') return null;
  return { utteranceId: d['utteranceId'] as string, speakerPeerId: d['speakerPeerId'] as string, language: d['language'] as string, text: d['text'] as string };
}

/**
 * How a caption text splits for display: what the voice has said, the rest of the committed words, and
 * the tentative tail. `spoken` is matched against the text ignoring spaces (the voice speaks sentence by
 * sentence); past the text it is capped.
 */
export function captionParts(t: CaptionText): { spoken: string; committed: string; tentative: string } {
  const committedEnd = t.final ? t.text.length : (t.committed?.length ?? 0);
  const spokenEnd = prefixLength(t.text, t.spoken ?? '');
  const firstTentative = Math.max(spokenEnd, committedEnd);
  return { spoken: t.text.slice(0, spokenEnd), committed: t.text.slice(spokenEnd, firstTentative), tentative: t.text.slice(firstTentative) };
}

/** Characters of `text` covered by `prefix`, compared without whitespace (0 when it does not match). */
function prefixLength(text: string, prefix: string): number {
  const want = prefix.replace(/\s+/gu, '');
  if (!want) return 0;
  let matched = 0;
  for (let i = 0; i < text.length; i++) {
    if (/\s/u.test(text[i]!)) continue;
    if (text[i] !== want[matched]) return 0;
    matched++;
    if (matched === want.length) return i + 1;
  }
  return 0;
}

/** `list` plus `item`, keeping only the last `cap` entries. */
export function pushCapped<T>(list: readonly T[], item: T, cap: number): T[] {
  const next = [...list, item];
  return next.length > cap ? next.slice(next.length - cap) : next;
}

/**
 * A newer text replaces an older one, except that a late partial never replaces a final text, and a
 * partial never takes back committed words. What the voice has said is kept.
 */
export function mergeText(previous: CaptionText | null | undefined, next: CaptionText): CaptionText {
  if (previous?.final && !next.final) return previous;
  if (!next.final && (previous?.committed?.length ?? 0) > (next.committed?.length ?? 0)) return previous!;
  return previous?.spoken ? { ...next, spoken: previous.spoken } : next;
}

/** Normalised language key: `ES` and `es` are the same language. */
export function languageKey(code: string): string {
  return code.trim().toLowerCase();
}

/** The small tag shown on each line: `en` -> `EN`, `pt-br` -> `PT-BR`. */
export function languageTag(code: string): string {
  return code.trim().toUpperCase() || '?';
}

/**
 * Folds one caption into the utterances (oldest first): updates its utterance in place in the
 * order, or appends a new one and drops the oldest beyond `max`. Returns a new array.
 */
export function applyCaption(
  utterances: readonly Utterance[],
  caption: CaptionNotice,
  receivedAt: number,
  max = MAX_UTTERANCES,
): Utterance[] {
  const text: CaptionText = { language: caption.language, text: caption.text, final: caption.final, ...(caption.committed !== undefined ? { committed: caption.committed } : {}) };
  const index = utterances.findIndex((u) => u.utteranceId === caption.utteranceId);
  const existing = index >= 0 ? utterances[index] : undefined;
  const base: Utterance = existing ?? {
    utteranceId: caption.utteranceId,
    speakerPeerId: caption.speakerPeerId,
    original: null,
    translations: {},
    firstAt: receivedAt,
    updatedAt: receivedAt,
  };
  const updated: Utterance = { ...base, updatedAt: receivedAt };
  if (caption.original) {
    updated.original = mergeText(base.original, text);
  } else {
    const key = languageKey(caption.language);
    updated.translations = { ...base.translations, [key]: mergeText(base.translations[key], text) };
  }
  if (existing) return utterances.map((u, i) => (i === index ? updated : u));
  return pushCapped(utterances, updated, max);
}

/** The name to show for a speaker. */
export function speakerName(peerId: string, speakers: Speakers): string {
  if (speakers.self.has(peerId)) return SELF_NAME;
  return speakers.names.get(peerId) ?? UNKNOWN_SPEAKER;
}

/** What a listener of `listeningLanguage` sees of each utterance; translations into other languages are left out. */
export function captionLines(utterances: readonly Utterance[], listeningLanguage: string, speakers: Speakers): CaptionLine[] {
  const wanted = languageKey(listeningLanguage);
  return utterances.map((u) => {
    const alreadyInIt = u.original !== null && languageKey(u.original.language) === wanted;
    const translation = alreadyInIt ? null : u.translations[wanted] ?? null;
    const shown = [u.original, translation].filter((t): t is CaptionText => t !== null);
    return {
      utteranceId: u.utteranceId,
      speakerPeerId: u.speakerPeerId,
      speaker: speakerName(u.speakerPeerId, speakers),
      self: speakers.self.has(u.speakerPeerId),
      original: u.original,
      translation,
      final: shown.every((t) => t.final),
    };
  });
}

/** Keeps the raw log (for the debug hook) and the grouped utterances (for the panel). */
export class CaptionStore {
  readonly #maxLog: number;
  readonly #maxUtterances: number;
  #log: CaptionRecord[] = [];
  #spokenLog: SpokenRecord[] = [];
  #utterances: Utterance[] = [];

  constructor(options: { maxLog?: number; maxUtterances?: number } = {}) {
    this.#maxLog = options.maxLog ?? MAX_CAPTION_LOG;
    this.#maxUtterances = options.maxUtterances ?? MAX_UTTERANCES;
  }

  /** Records a notification's data; false (and nothing stored) when it is malformed. */
  add(data: unknown, receivedAt = Date.now()): boolean {
    const caption = parseCaption(data);
    if (!caption) return false;
    this.#log = pushCapped(this.#log, { ...caption, receivedAt }, this.#maxLog);
    this.#utterances = applyCaption(this.#utterances, caption, receivedAt, this.#maxUtterances);
    return true;
  }

  /** Records what a translated voice started saying; false when malformed or its utterance is unknown. */
  spoken(data: unknown, receivedAt = Date.now()): boolean {
    const notice = parseSpoken(data);
    if (!notice) return false;
    this.#spokenLog = pushCapped(this.#spokenLog, { ...notice, receivedAt }, this.#maxLog);
    const key = languageKey(notice.language);
    const index = this.#utterances.findIndex((u) => u.utteranceId === notice.utteranceId);
    const translation = this.#utterances[index]?.translations[key];
    if (!translation) return false;
    const spoken = translation.spoken ? `${translation.spoken} ${notice.text}` : notice.text;
    const updated = { ...this.#utterances[index]!, translations: { ...this.#utterances[index]!.translations, [key]: { ...translation, spoken } } };
    this.#utterances = this.#utterances.map((u, i) => (i === index ? updated : u));
    return true;
  }

  /** Every caption received (newest last), including translations into languages we do not hear. */
  log(): CaptionRecord[] {
    return this.#log.map((record) => ({ ...record }));
  }

  /** Every captionSpoken notification received (newest last, capped like the caption log). */
  spokenLog(): SpokenRecord[] {
    return this.#spokenLog.map((record) => ({ ...record }));
  }

  utterances(): readonly Utterance[] {
    return this.#utterances;
  }

  /** Empties the panel's utterances (a new call); the debug log is kept. */
  clearUtterances(): void {
    this.#utterances = [];
  }
}
