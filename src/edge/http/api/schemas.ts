/** The request bodies of the server API (ApiRoutes in src/api/types.ts), checked strictly: unknown fields are refused. */
import { z } from 'zod';
import type { ApiCall, ApiRoutes } from '../../../api/types.js';
import { permissionChangesSchema as permissions } from '../../../auth/permissions.js';
import { isValidId } from '../../../auth/tokens.js';

const id = z.string().refine(isValidId, '1-64 characters of [A-Za-z0-9_.-]');
const reason = z.string().max(256);
/** Language tags are checked again (exactly) where the token is signed. */
const language = z.string().min(2).max(16);

/** The longest a join token made by the API may live: one day. */
export const MAX_TOKEN_TTL_SECONDS = 24 * 3600;

/** One schema per call; null for calls without a body (GET). */
export const API_BODIES: { [C in ApiCall]: z.ZodType<ApiRoutes[C]['body']> | null } = {
  createToken: z.strictObject({
    roomId: id,
    identity: id,
    name: z.string().min(1).max(64).optional(),
    role: z.enum(['speaker', 'listener', 'admin']).optional(),
    permissions: permissions.optional(),
    languages: z.strictObject({ spoken: language.optional(), listening: language.optional() }).optional(),
    ttlSeconds: z.number().int().min(10).max(MAX_TOKEN_TTL_SECONDS).optional(),
    singleUse: z.boolean().optional(),
  }),
  listRooms: null,
  getRoom: null,
  closeRoom: z.strictObject({ reason: reason.optional() }),
  listParticipants: null,
  getParticipant: null,
  removeParticipant: z.strictObject({ reason: reason.optional() }),
  muteTrack: z.strictObject({ trackId: z.string().min(1).max(128), muted: z.boolean() }),
  updatePermissions: z.strictObject({ permissions }),
};
