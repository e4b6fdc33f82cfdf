import WebSocket from 'ws';
import { TEST_SECRET } from './gateway.js';
import { signJoinToken, tokenKey } from '../auth/tokens.js';
import type { PeerPermissions, PeerRole } from '../protocol/messages.js';

type Pending = { resolve: (v: Response) => void; timer: NodeJS.Timeout };
export type Response = { type: 'response'; id: number | null; ok: boolean; data?: any; error?: { code: string; message: string } };
export type Notification = { type: 'notification'; method: string; data: any };

/** A bare signaling client (no media) for protocol tests. */
export class SignalingClient {
  readonly ws: WebSocket;
  readonly notifications: Notification[] = [];
  readonly #pending = new Map<number, Pending>();
  /** Responses that carried no id (refused before the id could be read), in arrival order. */
  readonly anonymous: Response[] = [];
  #nextId = 1;
  closeCode: number | null = null;

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (raw) => {
      const msg = JSON.parse(raw.toString()) as Response | Notification;
      if (msg.type === 'notification') {
        this.notifications.push(msg);
        return;
      }
      const p = msg.id === null ? undefined : this.#pending.get(msg.id);
      if (!p) {
        this.anonymous.push(msg);
        return;
      }
      clearTimeout(p.timer);
      this.#pending.delete(msg.id!);
      p.resolve(msg);
    });
    ws.on('close', (code) => (this.closeCode = code));
  }

  /** Opens `/ws`; `headers` are sent with the upgrade (Origin, X-Forwarded-For). */
  static async connect(baseUrl: string, options: { headers?: Record<string, string> } = {}): Promise<SignalingClient> {
    const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers: options.headers ?? {} });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new SignalingClient(ws);
  }

  /** Sends a request and resolves with the whole response (ok or error). */
  request(method: string, data: unknown = {}, timeoutMs = 10_000): Promise<Response> {
    const id = this.#nextId++;
    return this.sendRaw(JSON.stringify({ type: 'request', id, method, data }), id, timeoutMs);
  }

  /** Sends any text and waits for the response with `id`. */
  sendRaw(text: string | Buffer, id: number, timeoutMs = 10_000): Promise<Response> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response to request ${id}`)), timeoutMs);
      this.#pending.set(id, { resolve, timer });
      this.ws.send(text);
    });
  }

  /** Sends text whose response carries no id and waits for the next such response. */
  async sendAnonymous(text: string | Buffer, binary = false, timeoutMs = 10_000): Promise<Response> {
    const before = this.anonymous.length;
    this.ws.send(text, { binary });
    const deadline = Date.now() + timeoutMs;
    while (this.anonymous.length === before) {
      if (Date.now() > deadline) throw new Error('no anonymous response');
      await new Promise((r) => setTimeout(r, 10));
    }
    return this.anonymous[before]!;
  }

  async waitFor(method: string, predicate: (data: any) => boolean = () => true, timeoutMs = 10_000): Promise<Notification> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const n = this.notifications.find((x) => x.method === method && predicate(x.data));
      if (n) return n;
      if (Date.now() > deadline) throw new Error(`no ${method} notification; got ${this.notifications.map((x) => x.method).join(',')}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Synthetic but valid send parameters: mediasoup accepts them without real media flowing. */
export const OPUS_SEND = {
  codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2, parameters: {}, rtcpFeedback: [] }],
  encodings: [{ ssrc: 11111111 }],
  headerExtensions: [],
  rtcp: { cname: 'test' },
};
export const VP8_SEND = {
  codecs: [{ mimeType: 'video/VP8', payloadType: 101, clockRate: 90000, parameters: {}, rtcpFeedback: [] }],
  encodings: [{ ssrc: 22222222 }],
  headerExtensions: [],
  rtcp: { cname: 'test' },
};
/** DTLS parameters a client could send (no DTLS will actually run). */
export const TEST_DTLS = { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: Array.from({ length: 32 }, () => 'AB').join(':') }] };

export async function testToken(
  roomId: string,
  identity: string,
  options: { role?: PeerRole; ttlSeconds?: number; displayName?: string; secret?: string; tokenId?: string; permissions?: Partial<PeerPermissions> } = {},
): Promise<string> {
  const { token } = await signJoinToken(tokenKey(options.secret ?? TEST_SECRET, 'parley'), {
    roomId,
    identity,
    displayName: options.displayName ?? identity,
    role: options.role ?? 'speaker',
    ttlSeconds: options.ttlSeconds ?? 600,
    ...(options.tokenId ? { tokenId: options.tokenId } : {}),
    ...(options.permissions ? { permissions: options.permissions } : {}),
  });
  return token;
}
