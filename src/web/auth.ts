/** Getting a join token: from the page URL, or from the gateway's dev endpoint. */

import { ClientError, ClientErrors } from './errors.js';
import type { PageConfig } from './config.js';

export type JoinToken = {
  token: string;
  /** The identity the token names, when the dev endpoint told us. */
  identity: string | null;
  /** Expiry (ms since epoch), when known. */
  expiresAt: number | null;
};

type DevTokenResponse = { token: string; identity: string; expiresAt: number };

export async function obtainToken(config: PageConfig, roomId: string, displayName: string): Promise<JoinToken> {
  if (config.token) return { token: config.token, identity: null, expiresAt: null };
  let res: Response;
  try {
    res = await fetch(config.devTokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ roomId, displayName, ...(config.role ? { role: config.role } : {}) }),
    });
  } catch (err) {
    throw new ClientError(ClientErrors.TOKEN_UNAVAILABLE, `Could not reach the gateway: ${(err as Error).message}`);
  }
  if (res.status === 404) {
    throw new ClientError(ClientErrors.TOKEN_UNAVAILABLE, 'This gateway does not hand out dev tokens; open the link you were given (it carries ?token=...)');
  }
  if (!res.ok) {
    const body = await readErrorBody(res);
    throw new ClientError(body?.code ?? ClientErrors.TOKEN_UNAVAILABLE, body?.message ?? `Could not get a join token from the gateway (HTTP ${res.status})`);
  }
  const data = (await res.json()) as DevTokenResponse;
  if (typeof data.token !== 'string') throw new ClientError(ClientErrors.TOKEN_UNAVAILABLE, 'Token response has no token');
  return { token: data.token, identity: data.identity ?? null, expiresAt: data.expiresAt ?? null };
}

async function readErrorBody(res: Response): Promise<{ code?: string; message?: string } | null> {
  try {
    const body = (await res.json()) as { code?: unknown; message?: unknown; error?: { code?: unknown; message?: unknown } };
    const src = body.error ?? body;
    return {
      ...(typeof src.code === 'string' ? { code: src.code } : {}),
      ...(typeof src.message === 'string' ? { message: src.message } : {}),
    };
  } catch {
    return null;
  }
}
