import uWS from 'uWebSockets.js';
import type { Services } from '../app/services.js';
import { CLOSE_CODES } from '../protocol/messages.js';
import type { ClientLink } from '../session/PeerSession.js';
import { aiRoutes } from './http/aiRoutes.js';
import { apiRoutes } from './http/api/apiRoutes.js';
import { adminRoutes, connectRoute, devTokenRoute, healthRoutes, staticRoutes } from './http/routes.js';
import { Errors } from '../errors.js';
import { dispatch } from './ws/dispatch.js';
import { IpLimits } from './ws/IpLimits.js';
import { RateLimiter } from './ws/RateLimiter.js';
import type { ConnectionState } from './ws/types.js';

/** The socket's user data: the connection state, created at upgrade. */
type SocketData = { conn: ConnectionState };

export type EdgeServer = {
  port: number;
  /** Open WebSocket connections. */
  connections(): number;
  /** Stops listening for new connections and closes every socket with `code`. */
  close(code?: number, reason?: string): void;
};

const decoder = new TextDecoder('utf-8', { fatal: true });

/** uWebSockets.js app: HTTP routes and the `/ws` signaling endpoint on one port. */
export function startEdge(services: Services, options: { webDir: string }): Promise<EdgeServer> {
  const { config, log } = services;
  const app = uWS.App();
  const sockets = new Set<uWS.WebSocket<SocketData>>();
  const { maxConnectionsPerIp, ipRateLimitPerSecond, ipRateLimitBurst, trustProxy } = config.http;
  const ipLimits = new IpLimits({ maxConnections: maxConnectionsPerIp, perSecond: ipRateLimitPerSecond, burst: ipRateLimitBurst });
  let nextId = 1;

  app.ws<SocketData>('/ws', {
    // Our own limit (config.http.maxMessageBytes) answers with a coded error; uWS's hard limit sits well above it.
    maxPayloadLength: Math.max(4 * config.http.maxMessageBytes, 1 << 20),
    idleTimeout: 60,
    sendPingsAutomatically: true,
    maxBackpressure: 4 << 20,
    closeOnBackpressureLimit: 1, // a boolean in uWS; its typings say number
    upgrade: (res, req, context) => {
      const origin = req.getHeader('origin');
      const allowed = config.http.allowedOrigins;
      if (allowed.length > 0 && !allowed.includes(origin)) {
        res.writeStatus('403 Forbidden').end('origin not allowed');
        return;
      }
      const forwarded = trustProxy ? req.getHeader('x-forwarded-for').split(',')[0]?.trim() : '';
      const ip = forwarded || Buffer.from(res.getRemoteAddressAsText()).toString();
      if (!ipLimits.accepts(ip)) {
        const { code, message } = Errors.TOO_MANY_CONNECTIONS;
        res.writeStatus('429 Too Many Requests').writeHeader('content-type', 'application/json').end(JSON.stringify({ error: { code, message } }));
        return;
      }
      const conn = { id: nextId++, ip, session: null, joining: false, closed: false, counted: false } as Partial<ConnectionState>;
      res.upgrade<SocketData>(
        { conn: conn as ConnectionState },
        req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'),
        req.getHeader('sec-websocket-extensions'),
        context,
      );
    },
    open: (ws) => {
      const conn = ws.getUserData().conn;
      sockets.add(ws);
      const link: ClientLink = {
        send: (message) => {
          if (!conn.closed) ws.send(JSON.stringify(message), false);
        },
        close: (code, reason) => {
          if (!conn.closed) ws.end(code, reason);
        },
      };
      conn.link = link;
      const own = new RateLimiter(config.http.rateLimitPerSecond, config.http.rateLimitBurst);
      conn.limiter = { take: () => own.take() && ipLimits.take(conn.ip) };
      // Upgrades racing each other all passed the check above: the count here is the one that holds.
      conn.counted = ipLimits.open(conn.ip);
      if (!conn.counted) ws.end(CLOSE_CODES.policy, Errors.TOO_MANY_CONNECTIONS.code);
    },
    message: (ws, message, isBinary) => {
      const conn = ws.getUserData().conn;
      const bytes = message.byteLength;
      let text: string | null = null;
      if (!isBinary && bytes <= config.http.maxMessageBytes) {
        try {
          text = decoder.decode(message);
        } catch {
          text = '\u0000'; // not UTF-8: reported as bad JSON
        }
      }
      void dispatch(conn, services, { text, bytes });
    },
    close: (ws) => {
      const conn = ws.getUserData().conn;
      conn.closed = true;
      sockets.delete(ws);
      if (conn.counted) ipLimits.closed(conn.ip);
      if (conn.session) services.sessions.socketClosed(conn.session, conn.link);
    },
  });

  healthRoutes(app, services);
  connectRoute(app, services);
  aiRoutes(app, services);
  if (config.mode === 'dev') devTokenRoute(app, services);
  if (config.auth.adminToken) adminRoutes(app, services);
  apiRoutes(app, services);
  staticRoutes(app, options.webDir);

  return new Promise((resolve, reject) => {
    app.listen(config.http.host, config.http.port, (token) => {
      if (!token) {
        reject(new Error(`could not listen on ${config.http.host}:${config.http.port} (port in use?)`));
        return;
      }
      const port = uWS.us_socket_local_port(token);
      log.info({ port, host: config.http.host }, 'edge listening');
      resolve({
        port,
        connections: () => sockets.size,
        close: (code = CLOSE_CODES.goingAway, reason = 'shutting down') => {
          uWS.us_listen_socket_close(token);
          for (const ws of [...sockets]) ws.end(code, reason);
        },
      });
    });
  });
}
