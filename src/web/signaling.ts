/**
 * The WebSocket half of the client: requests with ids and timeouts, typed notifications, and
 * reconnecting with backoff when the socket drops. It knows nothing about rooms or media; the
 * session re-joins on every `open` after the first.
 *
 * Failover: after two connects in a row to the current URL fail (closed before opening), it asks
 * `locate` for a replica and otherwise rotates through the last known replica list (see
 * failover.ts), which `join` and every `replicas` notification refresh. `moveTo` switches replica
 * on request (a draining replica named another one).
 */

import { CLOSE_CODES } from '../protocol/messages.js';
import type {
  MethodMap,
  MethodName,
  NotificationMessage,
  NotificationName,
  RequestMessage,
  ResponseMessage,
} from '../protocol/messages.js';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.js';
import type { BackoffOptions } from './backoff.js';
import { ClientError, ClientErrors, FINAL_DISCONNECTS, PEER_REMOVED } from './errors.js';
import { Emitter } from './events.js';
import { replicaUrls, rotationTarget, shouldRotate, toBaseUrl } from './failover.js';

/** The browser's code for a socket cut without a close frame (RFC 6455, 7.4.1): the far end or the path died. */
const ABNORMAL_CLOSE = 1006;

/** Any notification, as a union discriminated on `method` so a `switch` narrows `data`. */
export type AnyNotification = { [N in NotificationName]: NotificationMessage<N> }[NotificationName];

export type SignalingOptions = {
  /** `ws:` or `wss:` URL of the gateway's `/ws`. */
  url: string;
  /** How long a request waits for its response. */
  requestTimeoutMs?: number;
  /** Reconnect delays. */
  backoff?: BackoffOptions;
  /** WebSocket constructor; tests pass a fake. */
  WebSocketImpl?: typeof WebSocket;
  /** Base URLs of the cluster's replicas known so far; the first connect tries each before giving up. */
  replicas?: string[];
  /** Asked for a replica's base URL when the current one failed; null (or a rejection) = rotate through `replicas`. */
  locate?: (failedUrl: string, known: readonly string[]) => Promise<string | null>;
};

export type SignalingEvents = {
  /** A socket opened; `reconnect` is false only for the first one. */
  open: [{ reconnect: boolean; url: string }];
  /** The socket closed; `retryInMs` is null when no reconnect follows. */
  close: [{ code: number; reason: string; retryInMs: number | null }];
  notification: [AnyNotification];
  /** An error response that answers no request (e.g. ERR_BAD_JSON with id null). */
  servererror: [ClientError];
  /** The client stopped for good: `error` is null after close(), else why it gave up. */
  ended: [ClientError | null];
};

type Pending = {
  method: MethodName;
  resolve: (data: unknown) => void;
  reject: (err: ClientError) => void;
  timer: ReturnType<typeof setTimeout>;
};

/** Close code the client uses when it drops a socket on purpose to retry. */
const CLIENT_RETRY_CLOSE = 4000;

export class SignalingClient extends Emitter<SignalingEvents> {
  readonly #options: Required<Omit<SignalingOptions, 'url' | 'replicas' | 'locate'>>;
  readonly #locate: SignalingOptions['locate'] | null;
  readonly #pending = new Map<number, Pending>();
  #url: string;
  #ws: WebSocket | null = null;
  #nextId = 1;
  #attempt = 0;
  #everOpened = false;
  #ended = false;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** Bumped per scheduled reconnect, so a superseded one (e.g. still locating) does nothing. */
  #reconnectSeq = 0;
  #reconnectPending = false;
  /** Base URLs of the live replicas, from the last `join` (or the constructor). */
  #replicas: string[];
  /** Replicas the first connect has not tried yet. */
  #untried: string[];
  /** Consecutive connects to the current URL that closed before opening. */
  #failures = 0;
  /**
   * The socket in use dropped without a close frame (1006): the replica, or the path to it, died. The
   * first reconnect then goes at once, and if it cannot even open, the next goes at once to another replica:
   * a replica killed mid-call costs its pages one refused connection, not the backoff of two.
   */
  #dropped = false;
  /** Set by a `disconnecting` notification for the close that follows it. */
  #announced: { error: ClientError; reconnect: boolean } | null = null;

  constructor(options: SignalingOptions) {
    super();
    this.#url = options.url;
    this.#replicas = [...(options.replicas ?? [])];
    this.#untried = this.#replicas.filter((url) => toBaseUrl(url) !== toBaseUrl(options.url));
    this.#locate = options.locate ?? null;
    this.#options = {
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      backoff: options.backoff ?? DEFAULT_BACKOFF,
      WebSocketImpl: options.WebSocketImpl ?? WebSocket,
    };
  }

  /** The socket URL in use (or about to be). */
  get url(): string {
    return this.#url;
  }

  /** The http(s) base URL of the replica in use: `ws://h:1/ws` -> `http://h:1`. */
  get baseUrl(): string {
    return toBaseUrl(this.#url);
  }

  get replicas(): readonly string[] {
    return this.#replicas;
  }

  /** Keeps the cluster's live replicas (base URLs) from a `join` response; an empty list keeps the last one. */
  setReplicas(urls: readonly string[]): void {
    if (urls.length > 0) this.#replicas = [...urls];
  }

  get connected(): boolean {
    return this.#ws?.readyState === 1;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Opens the first socket. Rejects with ERR_CLIENT_CONNECT_FAILED if it never opens (no retry). */
  connect(): Promise<void> {
    if (this.#ws || this.#ended) return Promise.reject(new ClientError('ERR_WRONG_STATE', 'connect() called twice'));
    return new Promise((resolve, reject) => {
      const stopOpen = this.on('open', () => {
        stopOpen();
        stopEnded();
        resolve();
      });
      const stopEnded = this.on('ended', (err) => {
        stopOpen();
        stopEnded();
        reject(err ?? new ClientError(ClientErrors.CONNECT_FAILED, 'Connection closed'));
      });
      this.#open();
    });
  }

  /** Sends a request and resolves with the response's `data`, or rejects with its coded error. */
  request<M extends MethodName>(method: M, data: MethodMap[M]['request'], timeoutMs = this.#options.requestTimeoutMs): Promise<MethodMap[M]['response']> {
    const ws = this.#ws;
    if (!ws || ws.readyState !== 1) {
      return Promise.reject(new ClientError(ClientErrors.SOCKET_CLOSED, `Not connected (${method})`));
    }
    const id = this.#nextId++;
    const message: RequestMessage<M> = { type: 'request', id, method, data };
    return new Promise<MethodMap[M]['response']>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new ClientError(ClientErrors.TIMEOUT, `No response to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pending.set(id, { method, resolve: resolve as (d: unknown) => void, reject, timer });
      ws.send(JSON.stringify(message));
    });
  }

  /** Called once a join succeeded on the current socket: the next drop starts from the shortest delay, and this URL is good. */
  resetBackoff(): void {
    this.#attempt = 0;
    this.#failures = 0;
    this.#dropped = false;
  }

  /** Drops the current socket and reconnects after the backoff (e.g. a re-join failed transiently). */
  retry(reason: string): void {
    if (this.#ended) return;
    const ws = this.#ws;
    if (ws && ws.readyState <= 1) ws.close(CLIENT_RETRY_CLOSE, reason.slice(0, 100));
    else this.#scheduleReconnect(CLIENT_RETRY_CLOSE, reason, { rotate: false });
  }

  /**
   * Leaves the current socket for the replica at `baseUrl`, at once (a draining replica named it).
   * Null means the current URL is no good: move to another replica (located or next in the list),
   * after the backoff.
   */
  moveTo(baseUrl: string | null, reason: string): void {
    if (this.#ended) return;
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= 1) ws.close(CLIENT_RETRY_CLOSE, reason.slice(0, 100));
    this.#rejectAll(new ClientError(ClientErrors.SOCKET_CLOSED, `Connection closed (${reason})`));
    this.#cancelReconnect();
    if (baseUrl) {
      this.#url = toSocketUrl(baseUrl, this.#url);
      this.#failures = 0;
      this.#scheduleReconnect(CLIENT_RETRY_CLOSE, reason, { rotate: false, immediate: true });
    } else {
      this.#scheduleReconnect(CLIENT_RETRY_CLOSE, reason, { rotate: true });
    }
  }

  /** Stops for good, reporting `error` (null for a user-initiated close). Idempotent. */
  close(error: ClientError | null = null, code: number = CLOSE_CODES.normal): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#cancelReconnect();
    const ws = this.#ws;
    this.#ws = null;
    if (ws && ws.readyState <= 1) ws.close(code);
    this.#rejectAll(new ClientError(ClientErrors.SOCKET_CLOSED, 'Connection closed'));
    this.emit('ended', error);
  }

  #open(): void {
    const ws = new this.#options.WebSocketImpl(this.#url);
    this.#ws = ws;
    this.#announced = null;
    let opened = false;
    ws.addEventListener('open', () => {
      if (ws !== this.#ws) return;
      opened = true;
      const reconnect = this.#everOpened;
      this.#everOpened = true;
      this.emit('open', { reconnect, url: this.#url });
    });
    ws.addEventListener('message', (event: MessageEvent) => {
      if (ws !== this.#ws) return;
      this.#onMessage(event.data);
    });
    ws.addEventListener('close', (event: CloseEvent) => {
      if (ws !== this.#ws) return;
      this.#ws = null;
      this.#onClose(event.code, event.reason, opened);
    });
    // 'error' is always followed by 'close'; nothing to do here.
  }

  #onMessage(raw: unknown): void {
    if (typeof raw !== 'string') return;
    let msg: ResponseMessage | AnyNotification;
    try {
      msg = JSON.parse(raw) as ResponseMessage | AnyNotification;
    } catch {
      console.warn('[parley] ignoring non-JSON message');
      return;
    }
    if (msg.type === 'response') {
      const pending = msg.id === null ? undefined : this.#pending.get(msg.id);
      if (!pending) {
        if (!msg.ok) this.emit('servererror', ClientError.fromBody(msg.error));
        return;
      }
      this.#pending.delete(msg.id as number);
      clearTimeout(pending.timer);
      if (msg.ok) pending.resolve(msg.data);
      else pending.reject(ClientError.fromBody(msg.error));
      return;
    }
    if (msg.type === 'notification') {
      if (msg.method === 'disconnecting') {
        const { code, message, reconnect, url } = msg.data;
        this.#announced = { error: new ClientError(code, message), reconnect };
        if (reconnect && url) {
          this.#url = toSocketUrl(url, this.#url);
          this.#failures = 0;
        }
      }
      if (msg.method === 'replicas') this.setReplicas(replicaUrls(msg.data.replicas));
      this.emit('notification', msg);
    }
  }

  #onClose(code: number, reason: string, opened: boolean): void {
    this.#rejectAll(new ClientError(ClientErrors.SOCKET_CLOSED, `Connection closed (${code})`));
    if (this.#ended) return;
    if (!this.#everOpened) {
      const next = this.#untried.shift();
      if (next) {
        this.#url = toSocketUrl(next, this.#url);
        this.#open();
        return;
      }
      this.emit('close', { code, reason, retryInMs: null });
      this.close(new ClientError(ClientErrors.CONNECT_FAILED, `Could not connect to ${this.#url} (close code ${code})`));
      return;
    }
    const announced = this.#announced;
    const terminal = terminalError(code, reason, announced);
    if (terminal) {
      this.emit('close', { code, reason, retryInMs: null });
      this.close(terminal);
      return;
    }
    if (opened && code === ABNORMAL_CLOSE) this.#dropped = true;
    if (!opened) this.#failures++;
    const rotate = !opened && shouldRotate(this.#failures, this.#dropped);
    this.#scheduleReconnect(code, reason, { rotate, immediate: this.#dropped && (opened || rotate) });
  }

  /** Opens a new socket after the backoff (none when `immediate`), first moving to another replica when `rotate`. */
  #scheduleReconnect(code: number, reason: string, how: { rotate: boolean; immediate?: boolean }): void {
    if (this.#reconnectPending) return;
    this.#reconnectPending = true;
    const seq = ++this.#reconnectSeq;
    const { backoff } = this.#options;
    let delay: number;
    if (how.immediate) delay = 0;
    else if (code === CLOSE_CODES.goingAway || this.#announced?.reconnect) delay = Math.round(Math.random() * 100);
    else if (code === CLOSE_CODES.policy) delay = backoffDelay(30, backoff);
    else delay = backoffDelay(this.#attempt, backoff);
    if (!how.immediate) this.#attempt++;
    this.emit('close', { code, reason, retryInMs: delay });
    // Ask where to go while the backoff runs; the socket opens once both are done.
    const failed = this.#url;
    const located = how.rotate && this.#locate ? this.#locate(failed, this.#replicas).catch(() => null) : null;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      if (!located) this.#reopen(seq, how.rotate, failed, null);
      else void located.then((preferred) => this.#reopen(seq, how.rotate, failed, preferred));
    }, delay);
  }

  #reopen(seq: number, rotate: boolean, failed: string, preferred: string | null): void {
    if (this.#ended || seq !== this.#reconnectSeq) return;
    this.#reconnectPending = false;
    if (rotate) {
      const next = rotationTarget(this.#replicas, failed, preferred);
      if (next) this.#url = toSocketUrl(next, this.#url);
      this.#failures = 0;
      this.#dropped = false;
    }
    this.#open();
  }

  #cancelReconnect(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#reconnectPending = false;
    this.#reconnectSeq++;
  }

  #rejectAll(err: ClientError): void {
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new ClientError(err.code, `${err.message} before ${pending.method} was answered`));
      this.#pending.delete(id);
    }
  }
}

/** Why a close is final, or null when the client should reconnect. */
function terminalError(code: number, reason: string, announced: { error: ClientError; reconnect: boolean } | null): ClientError | null {
  if (announced && (!announced.reconnect || FINAL_DISCONNECTS.has(announced.error.code))) return announced.error;
  if (code === CLOSE_CODES.replaced) {
    return announced?.error ?? new ClientError('ERR_SESSION_REPLACED', 'You joined this call from another tab or device, so this one was closed');
  }
  if (code === CLOSE_CODES.removed) {
    return announced?.error ?? new ClientError(PEER_REMOVED, `You were removed from the room${reason ? ` (${reason})` : ''}`);
  }
  return null;
}

/** Accepts a ws(s) URL, an http(s) base URL (mapped to its `/ws`), or a path, resolved against `current`. */
export function toSocketUrl(target: string, current: string): string {
  const isBase = /^https?:\/\//i.test(target);
  const url = new URL(target, current.replace(/^ws/, 'http'));
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/ws';
  else if (isBase && !url.pathname.endsWith('/ws')) url.pathname = `${url.pathname.replace(/\/+$/, '')}/ws`;
  return url.toString();
}
