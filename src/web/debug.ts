/**
 * `window.parley`: a read-only view of the session for tests and the bench. Playwright reads it
 * with `page.evaluate(() => window.parley.state)` and friends.
 */

import type { PeerInfo, PeerPermissions } from '../protocol/messages.js';
import type { IceRoute, InboundAudio, InboundVideo, OutboundVideo } from './call.js';
import type { VideoSource } from './localVideo.js';
import type { SentView } from './videoViews.js';
import type { CaptionRecord, SpokenRecord } from './captions.js';
import type { MicState } from './moderation.js';
import type { ConnectionState, Session } from './session.js';

export type { InboundAudio } from './call.js';

export type ParleyDebugHook = {
  readonly state: ConnectionState;
  readonly peerId: string | null;
  /** Other peers (not us), with their producers. */
  peers: () => PeerInfo[];
  /** getStats() of every audio consumer (or only those of `producerId`): inbound-rtp bytes, packets and totalAudioEnergy. */
  inboundAudio: (producerId?: string) => Promise<InboundAudio[]>;
  /** What this page decodes of each video it receives (frame size of the layer it gets now, frames decoded). */
  inboundVideo: () => Promise<InboundVideo[]>;
  /** What this page encodes of each layer of each video it sends (rid r0 = lowest), with the browser's reason for limiting it. */
  outboundVideo: () => Promise<OutboundVideo[]>;
  /** The tile reports this page sent (`setConsumerView`), with their performance.now() times, oldest first. */
  viewReports: () => SentView[];
  /** The room's active speaker as this page was told (a peerId), or null. */
  readonly activeSpeaker: string | null;
  /** Turns the camera or the screen share on or off, as the buttons do. */
  setVideo: (source: VideoSource, on: boolean) => Promise<void>;
  /** The ICE route of the send and recv transports (local candidate type, e.g. 'relay' through TURN). */
  iceRoutes: () => Promise<IceRoute[]>;
  readonly lastError: { code: string; message: string } | null;
  /** What the server lets this page do (from the join, then `permissionsChanged`); null before a join. */
  readonly permissions: PeerPermissions | null;
  /** The microphone: muted by the user or a moderator, allowed, and what the page says about it. */
  readonly mic: MicState & { muted: boolean };
  /** Base URL of the replica in use, e.g. `http://localhost:8081`. */
  readonly url: string;
  /** Successful re-joins since the call started (after drops, drains, failovers). */
  readonly reconnects: number;
  /** Every caption notification received (all languages, newest last, at most 500), with its arrival time. */
  captions: () => CaptionRecord[];
  /** Every captionSpoken notification received (a translated voice started these words), with its arrival time. */
  spoken: () => SpokenRecord[];
};

declare global {
  interface Window {
    parley?: ParleyDebugHook;
  }
}

export function installDebugHook(session: Session, captions: () => CaptionRecord[], spoken: () => SpokenRecord[], viewReports: () => SentView[]): ParleyDebugHook {
  const hook: ParleyDebugHook = {
    get state() {
      return session.state;
    },
    get peerId() {
      return session.peerId;
    },
    peers: () => session.peers(),
    inboundAudio: (producerId) => session.inboundAudio(producerId),
    iceRoutes: () => session.iceRoutes(),
    inboundVideo: () => session.videoStats(),
    viewReports,
    outboundVideo: () => session.sendStats(),
    get activeSpeaker() {
      return session.activeSpeaker;
    },
    setVideo: (source, on) => session.setVideo(source, on),
    get lastError() {
      return session.lastError?.toBody() ?? null;
    },
    get permissions() {
      return session.permissions;
    },
    get mic() {
      return { ...session.mic, muted: session.muted };
    },
    get url() {
      return session.url;
    },
    get reconnects() {
      return session.reconnects;
    },
    captions,
    spoken,
  };
  Object.defineProperty(window, 'parley', { value: hook, configurable: true, enumerable: true });
  return hook;
}
