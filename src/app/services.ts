import type { RoomStore } from '../actors/room/RoomStore.js';
import type { RoomAdmin } from '../api/types.js';
import type { InterpreterHandle } from '../ai/gateway/startInterpreter.js';
import type { TokenKey } from '../auth/tokens.js';
import type { Cluster } from '../cluster/Cluster.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../logger.js';
import type { ActiveSpeakers } from '../media/ActiveSpeakers.js';
import type { RoomRouters } from '../media/RoomRouters.js';
import type { WorkerPool } from '../media/WorkerPool.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import type { RoomProducers } from '../session/RoomProducers.js';
import type { SessionManager } from '../session/SessionManager.js';
import type { Store } from '../state/Store.js';

/** What the edge's handlers may use; built once in the composition root (app/gateway.ts). */
export type Services = {
  config: Config;
  replicaId: string;
  log: Logger;
  store: Store;
  /** The Redis this replica uses (the embedded one's URL when none was configured). */
  redisUrl: string;
  rooms: RoomStore;
  pool: WorkerPool;
  routers: RoomRouters;
  /** Who speaks now in each room router of this replica. */
  speakers: ActiveSpeakers;
  sessions: SessionManager;
  /** The one owner of this replica's producers in their rooms (publish, pause, close). */
  producers: RoomProducers;
  cluster: Cluster;
  /** Rooms and participants as the server API and moderators see and act on them (any replica serves any call). */
  admin: RoomAdmin;
  /** Speech translation for this replica's speakers (null when ai.enabled is false). */
  interpreter: InterpreterHandle | null;
  tokenKey: TokenKey;
  metrics: GatewayMetrics;
  lifecycle: { shuttingDown: boolean; redisUp: boolean };
  /** Asks the process hosting this gateway to drain and stop (POST /admin/drain). */
  requestDrain: () => void;
};
