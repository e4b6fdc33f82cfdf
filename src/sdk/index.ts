/**
 * The server SDK (docs/server-api.md): what an app's backend imports to manage rooms, mint join tokens
 * and sign its own requests.
 */
export { RoomServiceClient, type RoomServiceClientOptions } from './RoomServiceClient.js';
export { ApiError } from './ApiError.js';
export { createJoinToken, JOIN_TOKEN_DEFAULTS } from './joinToken.js';
export { API_ROUTES } from '../api/routes.js';
export { signApiRequest, type ApiKeyPair, type ApiRequestTarget } from '../api/requestAuth.js';
export type { ApiCall, ApiParticipant, ApiRoom, ApiRoutes, ApiTrack, CreateTokenRequest, CreateTokenResponse, WebhookEvent, WebhookEventKind } from '../api/types.js';
export type { PeerPermissions, PeerRole } from '../protocol/messages.js';
export { verifyWebhook, WEBHOOK_HEADERS, type VerifyWebhookOptions, type WebhookKeys } from '../webhooks/signature.js';
export { WebhookVerificationError, type WebhookVerificationCode } from '../webhooks/WebhookVerificationError.js';
