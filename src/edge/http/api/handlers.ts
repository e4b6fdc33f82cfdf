/** What each server API call does, once authenticated and validated: a call to RoomAdmin (or the token signer). */
import type { ApiCall, ApiRoutes } from '../../../api/types.js';
import type { Services } from '../../../app/services.js';
import { joinTokenFor } from '../../../sdk/joinToken.js';

/** Path parameters, already checked with isValidId ('' where the path has none). */
export type ApiParams = { roomId: string; identity: string };

export type ApiHandler<C extends ApiCall> = (s: Services, p: ApiParams, body: ApiRoutes[C]['body']) => Promise<ApiRoutes[C]['result']>;

export const API_HANDLERS: { [C in ApiCall]: ApiHandler<C> } = {
  createToken: (s, _p, body) => joinTokenFor(s.tokenKey, body),
  listRooms: async (s) => ({ rooms: await s.admin.listRooms() }),
  getRoom: (s, p) => s.admin.getRoom(p.roomId),
  closeRoom: async (s, p, body) => {
    await s.admin.closeRoom(p.roomId, body.reason ?? '');
    return {};
  },
  listParticipants: async (s, p) => ({ participants: await s.admin.listParticipants(p.roomId) }),
  getParticipant: (s, p) => s.admin.getParticipant(p.roomId, p.identity),
  removeParticipant: async (s, p, body) => {
    await s.admin.removeParticipant(p.roomId, p.identity, body.reason ?? '');
    return {};
  },
  muteTrack: (s, p, body) => s.admin.muteTrack(p.roomId, p.identity, body.trackId, body.muted),
  updatePermissions: (s, p, body) => s.admin.updatePermissions(p.roomId, p.identity, body.permissions),
};
