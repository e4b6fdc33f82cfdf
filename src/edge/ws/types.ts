import type { z } from 'zod';
import type { Services } from '../../app/services.js';
import type { MethodMap, MethodName } from '../../protocol/messages.js';
import type { ClientLink, PeerSession } from '../../session/PeerSession.js';

/** Per-socket state kept by the edge. */
export type ConnectionState = {
  id: number;
  ip: string;
  link: ClientLink;
  /** The connection's and its address's message budgets: false when either is spent. */
  limiter: { take(): boolean };
  /** Counted against its address's connection limit (uncounted on close). */
  counted: boolean;
  session: PeerSession | null;
  /** A join is in progress (a second one is refused). */
  joining: boolean;
  closed: boolean;
};

export type HandlerContext = { conn: ConnectionState; services: Services };

/** A joined connection: handlers of methods that need a room get the session directly. */
export type JoinedContext = HandlerContext & { session: PeerSession };

export type MethodHandler<M extends MethodName> = {
  /** Validates `data`; unknown fields are rejected. */
  params: z.ZodType<MethodMap[M]['request']>;
  /** True only for `join`: every other method needs a joined connection. */
  beforeJoin?: boolean;
  handle(ctx: JoinedContext, params: MethodMap[M]['request']): Promise<MethodMap[M]['response']>;
};

export type HandlerTable = { [M in MethodName]: MethodHandler<M> };
