import { z } from 'zod';
import type { PeerPermissions, PeerRole } from '../protocol/messages.js';

/**
 * What a participant may do in a room (fields: protocol/messages.ts PeerPermissions). A join token may carry its own; otherwise its role's defaults
 * apply (docs/permissions.md has the matrix). The room actor enforces the media ones, so they hold on
 * every replica; the moderation ones are checked where the request arrives.
 */
export type Permissions = PeerPermissions;

export const PERMISSION_NAMES = ['publishAudio', 'publishVideo', 'publishScreen', 'subscribe', 'translation', 'moderate'] as const satisfies ReadonlyArray<keyof Permissions>;

/**
 * Permissions that differ from a role's, or a moderator's change: only known names, each a boolean. The one
 * shape the token claim, the server API and the replica RPC all check.
 */
export const permissionChangesSchema = z.strictObject(
  Object.fromEntries(PERMISSION_NAMES.map((name) => [name, z.boolean().optional()])) as Record<keyof Permissions, z.ZodOptional<z.ZodBoolean>>,
);

const ALL: Permissions = { publishAudio: true, publishVideo: true, publishScreen: true, subscribe: true, translation: true, moderate: false };

export const ROLE_PERMISSIONS: Record<PeerRole, Permissions> = {
  speaker: ALL,
  listener: { ...ALL, publishAudio: false, publishVideo: false, publishScreen: false },
  admin: { ...ALL, moderate: true },
};

/** The permissions a participant has: the token's own, else its role's. */
export function permissionsFor(role: PeerRole, own?: Partial<Permissions>): Permissions {
  return { ...ROLE_PERMISSIONS[role], ...(own ?? {}) };
}

/** The permission a producer of `source` needs; translated voices (`translation:<lang>`) are the gateway's own. */
export function publishPermission(source: string): keyof Permissions | null {
  if (source === 'mic') return 'publishAudio';
  if (source === 'cam') return 'publishVideo';
  if (source === 'screen') return 'publishScreen';
  return null;
}
