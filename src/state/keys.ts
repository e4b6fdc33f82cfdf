/**
 * Every Redis key and channel the project uses, laid out for Redis Cluster
 * (docs/operations.md has the table): a room's keys and event channel carry
 * the `{room:<id>}` hash tag, a replica's its `{replica:<id>}` tag, each AI
 * queue its name in braces, so every multi-key command and script touches one
 * slot, and rooms, replicas and queues spread over the shards. Keys of their
 * own (the room index, the registry hashes, tokens, cache entries, audio
 * streams) are only ever used one at a time.
 */
export const KEY_PREFIX = 'parley';

const roomTag = (roomId: string) => `${KEY_PREFIX}:{room:${roomId}}`;
const replicaTag = (replicaId: string) => `${KEY_PREFIX}:{replica:${replicaId}}`;

export const Keys = {
  /** Set of ids of rooms that currently exist. */
  roomIndex: () => `${KEY_PREFIX}:rooms`,
  /** String: the first use of a single-use join token (its jti); expires with the token. */
  tokenUse: (tokenId: string) => `${KEY_PREFIX}:token-used:${tokenId}`,
  /** A server API request token's jti, kept until its expiry: a second use is a replay. */
  apiRequest: (jti: string) => `${KEY_PREFIX}:api-jti:${jti}`,
  /** Dev mode only: the token secret replicas share when none is configured. */
  devSecret: () => `${KEY_PREFIX}:dev:token-secret`,
  /** Room actor snapshot (hash: seq, doc). */
  room: (roomId: string) => `${roomTag(roomId)}:room`,
  /** Peer actor snapshot (hash: seq, doc). */
  peer: (roomId: string, peerId: string) => `${roomTag(roomId)}:peer:${peerId}`,
  /** Pattern matching every peer snapshot of every room. */
  allPeersPattern: () => `${KEY_PREFIX}:{room:*}:peer:*`,
  /** Pattern matching every peer snapshot of a room. */
  peerPattern: (roomId: string) => `${roomTag(roomId)}:peer:*`,
  /** Pattern matching every key of a room. */
  roomPattern: (roomId: string) => `${roomTag(roomId)}:*`,
  /** Hash: replicaId -> JSON registry entry (address, load, heartbeat, draining). */
  replicas: () => `${KEY_PREFIX}:replicas`,
  /** Mediasoup worker actor snapshot of one replica (expires unless refreshed). */
  worker: (replicaId: string, index: number) => `${replicaTag(replicaId)}:worker:${index}`,
  /** Pattern matching every key that belongs to a replica. */
  replicaPattern: (replicaId: string) => `${replicaTag(replicaId)}:*`,
  /** Hash: AI worker id -> JSON announcement (engines it serves, heartbeat, host, pid). */
  aiWorkers: () => `${KEY_PREFIX}:ai:workers`,
  /**
   * Stream: the 16 kHz audio of one utterance being recognized, in chunks (fields t=a|e, pcm, at; the end
   * entry carries the timing marks). Written by the gateway that hears the speaker, read by the AI worker
   * holding the utterance's stt job (and replayed from the start by a worker that takes it over). Capped
   * with MAXLEN, given a TTL, and deleted when the utterance is done. One key, so no slot rule.
   */
  audioStream: (prefix: string, utteranceId: string) => `${prefix}:ai:audio:${utteranceId}`,
} as const;

export const Channels = {
  /** Requests and replies addressed to one replica (pipe setup). */
  replica: (replicaId: string) => `${replicaTag(replicaId)}:rpc`,
  /** Room events published after each accepted room-actor transition. */
  room: (roomId: string) => `${roomTag(roomId)}:events`,
  /** Captions, spoken-word marks and translation notices of a room (not room state: no seq). */
  translation: (roomId: string) => `${roomTag(roomId)}:translation`,
} as const;

/**
 * AI pipeline queues, by the name metrics and logs show. BullMQ is given `bullName(name)`, the name in a
 * hash tag: it stores a queue's keys as `<prefix>:<name>:<suffix>` and its scripts touch several of them
 * at once, so with the default prefix the stt queue lives under `parley:{parley-stt}:*`, one slot per queue.
 */
export const QueueNames = {
  /** One recognition session per utterance, added by the gateway replica that hears it when speech starts; its audio flows on Keys.audioStream. */
  stt: 'parley-stt',
  /** One job per (utterance, target language). */
  translate: 'parley-translate',
  /** One job per (utterance, target language) with translated text. */
  tts: 'parley-tts',
  /** Webhook deliveries to one receiver, in order, one at a time; `receiverId`: a short hash of its URL. */
  webhooks: (receiverId: string): string => `parley-webhooks-${receiverId}`,
  /** Captions, audio and drops for the gateway replica that asked. */
  results: (replicaId: string): string => {
    if (!replicaId || replicaId.includes(':')) throw new TypeError(`replicaId must be non-empty without ":", got "${replicaId}"`);
    return `parley-results-${replicaId}`;
  },
} as const;

/** The queue name BullMQ is given for a pipeline queue: all its keys in one Cluster slot, each queue its own. */
export const bullName = (queue: string): string => `{${queue}}`;

/** AI pipeline cache (translations and synthesized sentences), under the BullMQ prefix. */
export const CacheKeys = {
  /** String: translated text of one normalized phrase (sha256 hex), expires after the cache TTL. */
  translation: (prefix: string, engineId: string, from: string, to: string, hash: string) =>
    `${prefix}:ai-cache:translate:${engineId}:${from}:${to}:${hash}`,
  /** Sorted set: translation entry key -> time written; caps the number of translation entries. */
  translationIndex: (prefix: string) => `${prefix}:ai-cache:translate:index`,
  /** String (binary): u32 LE sample rate + Int16 LE PCM of one synthesized phrase. */
  audio: (prefix: string, engineId: string, language: string, hash: string) => `${prefix}:ai-cache:tts:${engineId}:${language}:${hash}`,
  /** Sorted set: audio entry key -> time written; caps the number of audio entries. */
  audioIndex: (prefix: string) => `${prefix}:ai-cache:tts:index`,
} as const;
