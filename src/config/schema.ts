import { z } from 'zod';

/**
 * The one typed configuration. Precedence: these defaults, then a YAML file
 * (`--config` or PARLEY_CONFIG), then environment variables derived from the key
 * path (`media.rtcBasePort` -> PARLEY_MEDIA_RTC_BASE_PORT). Unknown keys are
 * rejected at boot. parley.sample.yaml documents every key.
 */
const strict = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();

export const configSchema = strict({
  /** 'dev' enables the token endpoint and a generated secret; 'production' requires auth.secret. */
  mode: z.enum(['dev', 'production']).default('dev'),
  replica: strict({
    /** Stable id of this gateway replica; empty = "<hostname>-<http.port>". */
    id: z.string().default(''),
    /** URL browsers use to reach this replica's signaling; empty = derived from http host/port. */
    publicUrl: z.string().default(''),
  }).prefault({}),
  http: strict({
    /**
     * Interface the HTTP/WebSocket port listens on. Empty = loopback (127.0.0.1) in dev mode, so a dev
     * gateway and its open token endpoint are not on the network by accident; every interface (0.0.0.0)
     * in production. Set it (e.g. 0.0.0.0) to open a dev gateway to a network on purpose.
     */
    host: z.string().default(''),
    /** 0 picks a free port (the chosen one is logged and printed). */
    port: z.number().int().min(0).max(65535).default(8080),
    /** Largest signaling message accepted, in bytes. */
    maxMessageBytes: z.number().int().min(1024).max(1048576).default(65536),
    /** Sustained messages per second per connection, and the burst above it. */
    rateLimitPerSecond: z.number().positive().default(50),
    rateLimitBurst: z.number().int().positive().default(100),
    /** Browser origins allowed to open the WebSocket; empty = any. */
    allowedOrigins: z.array(z.string()).default([]),
    /** Take the client address from X-Forwarded-For (only behind a proxy that sets it; else clients could forge it). */
    trustProxy: z.boolean().default(false),
    /** WebSocket connections open at once from one client address. */
    maxConnectionsPerIp: z.number().int().positive().default(64),
    /** Sustained messages per second from one client address over all its connections, and the burst above it. */
    ipRateLimitPerSecond: z.number().positive().default(500),
    ipRateLimitBurst: z.number().int().positive().default(1000),
  }).prefault({}),
  redis: strict({
    /**
     * Connection string: redis://host:port (one server), redis-sentinel://h1:26379,h2:26379,h3:26379/<master>
     * (the primary the sentinels name), or redis-cluster://h1:6379,h2:6379,h3:6379 (a Redis Cluster through
     * these seed nodes); see src/state/redisConnection.ts. Empty = an embedded redis-server, unless
     * `sentinels` or `clusterNodes` is set.
     */
    url: z.string().default(''),
    /** Sentinel mode without writing the URL: the sentinels (host:port) watching `masterName`. */
    sentinels: z.array(z.string()).default([]),
    /** The name the sentinels monitor the primary under (with `sentinels`). */
    masterName: z.string().default('parley'),
    /** Cluster mode without writing the URL: seed nodes (host:port) of a Redis Cluster; any few of its nodes will do. */
    clusterNodes: z.array(z.string()).default([]),
    /** Password of the Redis servers (with `sentinels` or `clusterNodes`; in `url` it goes into the URL). */
    password: z.string().default(''),
    /** Port for the embedded redis-server; 0 = a free one. */
    embeddedPort: z.number().int().min(0).max(65535).default(0),
    /** Directory for the embedded server's append-only file; empty = in memory only. */
    embeddedDataDir: z.string().default(''),
  }).prefault({}),
  auth: strict({
    /** HMAC secret for join tokens (HS256). Required in production mode; in dev mode, empty = one shared through Redis. */
    secret: z.string().default(''),
    issuer: z.string().default('parley'),
    /** Lifetime of tokens minted by the dev token endpoint. */
    devTokenTtlSeconds: z.number().int().positive().default(3600),
    /** Bearer token for /admin/* (drain); empty = admin endpoints disabled. */
    adminToken: z.string().default(''),
    /** Bearer token /metrics requires; empty = /metrics is open (keep the port private then). */
    metricsToken: z.string().default(''),
  }).prefault({}),
  api: strict({
    /** The server API (`/api/v1/...`, docs/server-api.md) on the gateway port. */
    enabled: z.boolean().default(true),
    /**
     * API key pairs. A request is a bearer JWT signed (HS256) with a key's secret, the key in its `kid`
     * header; several pairs may coexist while one is rotated out. Production mode with the API on needs one.
     */
    keys: z
      .preprocess(
        // From the environment: PARLEY_API_KEYS=key1:secret1,key2:secret2
        (v) => (Array.isArray(v) ? v.map((k) => (typeof k === 'string' ? { key: k.slice(0, k.indexOf(':')), secret: k.slice(k.indexOf(':') + 1) } : k)) : v),
        z.array(strict({ key: z.string().regex(/^[A-Za-z0-9_.-]{3,64}$/, '3-64 characters of [A-Za-z0-9_.-]'), secret: z.string().min(32, 'at least 32 characters') })),
      )
      .default([]),
    /** Longest lifetime (exp - iat) a request token may have, in seconds. */
    maxRequestAgeSeconds: z.number().int().min(10).max(3600).default(300),
  }).prefault({}),
  webhooks: strict({
    /** Receivers: each gets every event, POSTed as JSON and signed (docs/webhooks.md). Empty = no webhooks. */
    urls: z.array(z.string().url()).default([]),
    /** The API key whose secret signs deliveries; empty = the first of `api.keys`. */
    apiKey: z.string().default(''),
    /** One delivery attempt's timeout, in ms. */
    timeoutMs: z.number().int().positive().default(5000),
    /** How long a delivery is retried (with backoff) before it is given up, in ms. */
    retryForMs: z.number().int().positive().default(24 * 3600 * 1000),
  }).prefault({}),
  media: strict({
    /** Number of mediasoup workers; 0 = one per CPU core. */
    workers: z.number().int().min(0).max(64).default(0),
    /** Worker i's WebRtcServer listens on UDP and TCP port rtcBasePort + i. */
    rtcBasePort: z.number().int().min(1024).max(65000).default(40000),
    /** Address the WebRtcServers bind to. */
    listenIp: z.string().default('127.0.0.1'),
    /** Address announced in ICE candidates; empty = listenIp. */
    announcedIp: z.string().default(''),
    /** mediasoup worker log level (routed through pino). */
    workerLogLevel: z.enum(['debug', 'warn', 'error', 'none']).default('warn'),
    /** Delay before a dead mediasoup worker is recreated, doubled per consecutive death (ms). */
    workerRestartDelayMs: z.number().int().min(0).default(500),
    /** Address PipeTransports (media between replicas) bind to; empty = listenIp. */
    pipeListenIp: z.string().default(''),
    /** Address other replicas send piped media to; empty = pipeListenIp. */
    pipeAnnouncedIp: z.string().default(''),
    /** UDP port range for PipeTransports (one port per room and direction between two replicas). */
    pipePortMin: z.number().int().min(1024).max(65535).default(41000),
    pipePortMax: z.number().int().min(1024).max(65535).default(41999),
    /** Encrypt media between replicas with SRTP. */
    pipeSrtp: z.boolean().default(false),
    /** Peers of one room per router (worker) on a replica; past it the room spreads to another worker (pipeToRouter). 0 = no limit. */
    maxPeersPerRouter: z.number().int().min(0).default(50),
    /** Per-peer limits. */
    maxTransportsPerPeer: z.number().int().positive().default(4),
    maxProducersPerPeer: z.number().int().positive().default(4),
  }).prefault({}),
  turn: strict({
    /** TURN server URLs handed to clients, e.g. turn:turn.example.com:3478?transport=udp and ?transport=tcp; empty = no TURN. */
    urls: z.array(z.string()).default([]),
    /** coturn's static-auth-secret (use-auth-secret): clients get REST-style credentials derived from it, never the secret. */
    secret: z.string().default(''),
    /** Lifetime of a TURN credential (s). */
    credentialTtlSeconds: z.number().int().min(60).max(86400).default(600),
    /** Clients send media only through TURN (iceTransportPolicy "relay"). */
    forceRelay: z.boolean().default(false),
  }).prefault({}),
  rooms: strict({
    maxPeers: z.number().int().positive().default(16),
    /** How long a peer whose socket dropped stays in the room waiting to reconnect (ms). */
    reconnectGraceMs: z.number().int().min(0).default(15000),
  }).prefault({}),
  cluster: strict({
    /** How often this replica refreshes its entry in the replica registry (ms). */
    heartbeatMs: z.number().int().min(100).default(2000),
    /** A replica whose heartbeat is older than this is gone: its peers and pipes are removed (ms). */
    staleAfterMs: z.number().int().min(500).default(5000),
    /** Timeout of a request to another replica (pipe setup), ms. */
    rpcTimeoutMs: z.number().int().min(100).default(3000),
    /** After a drain starts, wait this long before asking this replica's peers to move (ms). */
    drainMoveDelayMs: z.number().int().min(0).default(2000),
    /** A draining replica exits when empty, or at this deadline (ms). */
    drainTimeoutMs: z.number().int().min(0).default(30000),
  }).prefault({}),
  ai: strict({
    /** Tap speakers whose language a listener does not share, and play translations into the room. */
    enabled: z.boolean().default(true),
    /** An utterance older than this (from the end of speech) is dropped at any stage (ms). */
    maxAgeMs: z.number().int().min(500).default(15000),
    /** A speaker who does not pause is cut into utterances of at most this long (ms); shorter means faster captions. */
    maxUtteranceMs: z.number().int().min(1000).max(30000).default(6000),
    /** Silence that ends an utterance (ms): the endpoint comes this long (+ ~32 ms) after the last voiced audio. */
    minSilenceMs: z.number().int().min(100).max(3000).default(250),
    /**
     * The utterance also ends after ai.minSilenceMs of audio quieter than this share of its speech level
     * (mean window RMS), where Silero would still call a breath or the room's tail speech for 150-300 ms
     * more; 0 leaves the end to Silero alone.
     */
    quietEndRatio: z.number().min(0).max(0.9).default(0.3),
    /** Speech is streamed to recognition in chunks of this much audio (ms); each chunk gives a new hypothesis. */
    chunkMs: z.number().int().min(32).max(1000).default(160),
    /**
     * How the AI worker recognizes speech: 'streaming' decodes while the speaker talks (hypotheses become
     * partial captions, the final comes right after the endpoint); 'batch' decodes each utterance whole after
     * it ends (the behaviour before streaming, kept for comparison; no partial captions).
     */
    recognition: z.enum(['streaming', 'batch']).default('streaming'),
    /**
     * 'simultaneous': commit the stable words while the speaker talks, translate and speak each committed
     * segment at once, and pace the translated voice (ai.commit, ai.playout); 'consecutive': translate each
     * utterance after it ends and play translations in full, one after another (the behaviour before).
     */
    translation: z.enum(['simultaneous', 'consecutive']).default('simultaneous'),
    /** Commit policy of simultaneous translation (src/ai/simultaneous/commitPolicy.ts; docs/architecture.md). */
    commit: strict({
      /** Hypotheses that must agree on a word for it to be stable. */
      stableHypotheses: z.number().int().min(1).max(10).default(2),
      /** An unchanged hypothesis through this much speech is a pause: all of it is committed (ms). */
      pauseMs: z.number().int().min(0).max(5000).default(320),
      /** Stable words needed before a clause boundary ("and", "which", ...) to commit them. */
      minWords: z.number().int().min(1).max(50).default(3),
      /** Uncommitted words past which the stable part is committed. */
      maxWords: z.number().int().min(1).max(100).default(8),
      /** Speech since the last commit past which the stable part is committed (ms). */
      maxMs: z.number().int().min(100).max(30000).default(2500),
      /** Words held back from a commit forced by maxWords/maxMs (the recognizer may still change them). */
      holdBack: z.number().int().min(0).max(10).default(1),
    }).prefault({}),
    /** Paced playout of simultaneous translation (src/ai/simultaneous/pacer.ts). */
    playout: strict({
      /** Unplayed translated speech up to which the voice speaks at normal speed (ms). */
      relaxedBacklogMs: z.number().int().min(0).default(300),
      /** Unplayed translated speech at which the voice reaches maxRate (ms). */
      fullBacklogMs: z.number().int().min(1).default(2000),
      /** Fastest speaking rate (1.6 = 60 % faster), by time-stretching (the pitch is kept). */
      maxRate: z.number().min(1).max(3).default(1.6),
      /** Unplayed translated speech past which the oldest waiting segments are dropped (ERR_PLAYOUT_BEHIND, ms). */
      dropBacklogMs: z.number().int().min(500).default(5000),
    }).prefault({}),
    /** Recognition sessions (speakers at once) one AI worker runs; more are refused with ERR_AI_SATURATED. */
    maxSessions: z.number().int().min(1).max(64).default(3),
    /** A recognition session no AI worker took within this long is refused with ERR_AI_SATURATED (ms). */
    sessionAdmitMs: z.number().int().min(100).max(30000).default(1000),
    /** A recognition session whose audio stops for this long ends with what was heard (ERR_STREAM_STALLED, ms). */
    streamStallMs: z.number().int().min(500).max(60000).default(3000),
    /** Volume (0..1) of a speaker's original voice under its translation, in listeners' pages. */
    originalVolume: z.number().min(0).max(1).default(0.2),
    /** Recognition sessions waiting for an AI worker above which new ones are refused at once. */
    maxQueueDepth: z.number().int().positive().default(50),
    /** Where production models live (see `parley models`). */
    modelsDir: z.string().default('models'),
    /** Python with the pocketsphinx module (Debian's python3-pocketsphinx). */
    pythonBin: z.string().default('/usr/bin/python3'),
    /** Per-call limit on an engine (ms); past it the utterance is dropped with ERR_ENGINE_FAILED. */
    engineTimeoutMs: z.number().int().min(100).default(10000),
    /** Translation and synthesis jobs an AI worker runs at once (per stage). */
    concurrency: z.number().int().positive().default(2),
  }).prefault({}),
  log: strict({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    /** Pretty, human-readable logs instead of JSON lines. */
    pretty: z.boolean().default(false),
  }).prefault({}),
});

export type Config = z.infer<typeof configSchema>;
