/**
 * Where each server API call lives (the runtime twin of ApiRoutes in src/api/types.ts): the SDK builds
 * its requests from it and the gateway registers its routes from it, so the two cannot drift apart.
 */
import type { ApiCall, ApiRoutes } from './types.js';

export type ApiRoute<C extends ApiCall = ApiCall> = Pick<ApiRoutes[C], 'method' | 'path'>;

export const API_ROUTES = {
  createToken: { method: 'POST', path: '/api/v1/tokens' },
  listRooms: { method: 'GET', path: '/api/v1/rooms' },
  getRoom: { method: 'GET', path: '/api/v1/rooms/:roomId' },
  closeRoom: { method: 'POST', path: '/api/v1/rooms/:roomId/close' },
  listParticipants: { method: 'GET', path: '/api/v1/rooms/:roomId/participants' },
  getParticipant: { method: 'GET', path: '/api/v1/rooms/:roomId/participants/:identity' },
  removeParticipant: { method: 'POST', path: '/api/v1/rooms/:roomId/participants/:identity/remove' },
  muteTrack: { method: 'POST', path: '/api/v1/rooms/:roomId/participants/:identity/mute' },
  updatePermissions: { method: 'POST', path: '/api/v1/rooms/:roomId/participants/:identity/permissions' },
} as const satisfies { [C in ApiCall]: ApiRoute<C> };

/** The path parameters a call's path names. */
export type PathParams = { roomId?: string; identity?: string };

/** The path parameter names of a route, in order (`:roomId`, `:identity`). */
export function paramNames(path: string): Array<keyof PathParams> {
  return [...path.matchAll(/:(\w+)/g)].map((m) => m[1] as keyof PathParams);
}

/** A route's path with its parameters filled in (URI-encoded). */
export function fillPath(path: string, params: PathParams): string {
  return path.replace(/:(\w+)/g, (_, name: keyof PathParams) => {
    const value = params[name];
    if (value === undefined) throw new TypeError(`missing path parameter ${name}`);
    return encodeURIComponent(value);
  });
}
