/**
 * One hostile WebSocket: sends a batch of frames and waits for as many responses, so every answer
 * (and its error code) is attributed to the category that caused it. Notifications are ignored.
 */
import WebSocket from 'ws';
import type { Category, Frame } from './messages.js';

/** `closed`: frames the server answered by closing the socket (e.g. 1007 for text that is not UTF-8). */
export type Tally = { sent: number; answered: number; closed: number; unanswered: number; codes: Record<string, number> };

export const emptyTally = (): Tally => ({ sent: 0, answered: 0, closed: 0, unanswered: 0, codes: {} });

export class HostileConnection {
  readonly #ws: WebSocket;
  #responses: Array<{ ok: boolean; code: string | null }> = [];
  #wake: (() => void) | null = null;
  closed = false;
  closeCode: number | null = null;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (raw) => {
      let msg: { type?: string; ok?: boolean; error?: { code?: string } };
      try {
        msg = JSON.parse(raw.toString()) as typeof msg;
      } catch {
        msg = { type: 'response', ok: false, error: { code: 'UNPARSEABLE_REPLY' } };
      }
      if (msg.type !== 'response') return;
      this.#responses.push({ ok: msg.ok === true, code: msg.ok ? null : (msg.error?.code ?? 'NO_CODE') });
      this.#wake?.();
    });
    ws.on('close', (code) => {
      this.closed = true;
      this.closeCode = code;
      this.#wake?.();
    });
    ws.on('error', () => undefined);
  }

  /** Opens `/ws` with `headers` (the suite gives each connection its own X-Forwarded-For). */
  static open(baseUrl: string, headers: Record<string, string>): Promise<HostileConnection> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws`, { headers, maxPayload: 16 << 20 });
      ws.once('open', () => resolve(new HostileConnection(ws)));
      ws.once('error', reject);
    });
  }

  /** Sends `frames` and waits for one response each (or the close of the socket, or `timeoutMs`); tallies into `tally`. */
  async exchange(frames: Frame[], tally: Tally, timeoutMs = 15_000): Promise<Array<{ ok: boolean; code: string | null }>> {
    this.#responses = [];
    for (const f of frames) {
      if (this.closed) break;
      this.#ws.send(f.data, { binary: f.binary });
      tally.sent++;
    }
    const deadline = Date.now() + timeoutMs;
    while (this.#responses.length < frames.length && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
        setTimeout(resolve, 50);
      });
    }
    this.#wake = null;
    const got = this.#responses.slice(0, frames.length);
    const missing = Math.max(0, frames.length - got.length);
    tally.answered += got.length;
    for (const r of got) tally.codes[r.code ?? 'ok'] = (tally.codes[r.code ?? 'ok'] ?? 0) + 1;
    if (missing > 0 && this.closed) {
      tally.closed += missing;
      const key = `close ${this.closeCode}`;
      tally.codes[key] = (tally.codes[key] ?? 0) + missing;
    } else tally.unanswered += missing;
    return got;
  }

  /** Drops the socket without a close handshake (a vanished client). */
  terminate(): void {
    this.#ws.terminate();
  }

  close(): void {
    if (!this.closed) this.#ws.close();
  }
}

export type CategoryTallies = Record<Category, Tally>;
