/**
 * The rooms of the pipeline bench, for a gateway it started (dev tokens) or a deployment (--target,
 * minted tokens): a speaker (a werift client or a Chromium page with the clip as fake microphone, its
 * microphone probed) and a Spanish listener page that records the translated audio's arrivals and
 * the captions it receives.
 */
import type { Page } from 'playwright-core';
import { joinCall, type ParleyBrowser } from '../../src/devkit/browser.js';
import type { PeerRole } from '../../src/protocol/messages.js';
import { ClipSpeaker } from '../clients/ClipSpeaker.js';
import type { SpeechClip } from '../lib/inputs.js';
import { installPeerConnectionTap, readMicProbe, startArrivalProbe, startMicProbe } from '../lib/probes.js';
import { checkAborted } from '../lib/stack.js';
import type { RunContext } from '../lib/types.js';
import type { CaptionRecord } from '../lib/utterances.js';

/** A room's speaker: a Chromium page with a fake microphone, or a werift client (bench/clients/ClipSpeaker.ts). */
export type Speaker = { peerId: string; mic: () => Promise<Array<[number, number]>>; close: () => Promise<void> };

export type Room = { index: number; roomId: string; clip: SpeechClip; speaker: Speaker; listener: Page; speakerId: string; captions: Map<string, CaptionRecord> };

/**
 * How pages and clients get in: null = the gateway's dev tokens (a gateway the bench started); else a
 * token minted per participant, and the local address the werift clients use (a deployment).
 */
export type RoomAccess = { token: (roomId: string, identity: string, name: string, role: PeerRole) => Promise<string>; host: string } | null;

async function chromiumSpeaker(browser: ParleyBrowser, url: string, roomId: string, index: number, access: RoomAccess): Promise<Speaker> {
  const page = await browser.newPage();
  await installPeerConnectionTap(page);
  const displayName = `Speaker ${index}`;
  const token = access ? await access.token(roomId, `speaker-${index}`, displayName, 'speaker') : undefined;
  await joinCall(page, url, { roomId, displayName, spokenLanguage: 'en', listeningLanguage: 'en', ...(token ? { token } : {}) });
  await startMicProbe(page);
  return { peerId: await page.evaluate(() => window.parley!.peerId!), mic: () => readMicProbe(page), close: () => page.close() };
}

async function weriftSpeaker(url: string, roomId: string, index: number, clip: SpeechClip, access: RoomAccess): Promise<Speaker> {
  const identity = `speaker-${index}`;
  const auth = access ? { token: await access.token(roomId, identity, identity, 'speaker'), host: access.host } : {};
  const speaker = await ClipSpeaker.join({ baseUrl: url, roomId, identity, clip, language: 'en', ...auth });
  return { peerId: speaker.peerId, mic: async () => speaker.micProbe(), close: () => speaker.close() };
}

/** A room of its own: the Spanish listener page joins first, then the speaker; the listener's arrival probe starts. */
export async function openRoom(ctx: RunContext, url: string, tag: string, index: number, clip: SpeechClip, speakers: ParleyBrowser | null, listeners: ParleyBrowser, access: RoomAccess = null): Promise<Room> {
  checkAborted(ctx);
  const roomId = `bench-pipeline-${tag}-${index}-${Date.now().toString(36)}`;
  const listener = await listeners.newPage();
  const displayName = `Listener ${index}`;
  const token = access ? await access.token(roomId, `listener-${index}`, displayName, 'listener') : undefined;
  await joinCall(listener, url, { roomId, displayName, spokenLanguage: 'es', listeningLanguage: 'es', role: 'listener', ...(token ? { token } : {}) });
  const speaker = speakers ? await chromiumSpeaker(speakers, url, roomId, index, access) : await weriftSpeaker(url, roomId, index, clip, access);
  await startArrivalProbe(listener, 'translation', speaker.peerId, 'translation:es');
  return { index, roomId, clip, speaker, listener, speakerId: speaker.peerId, captions: new Map() };
}

/**
 * Adds the captions of each room's speaker that its listener page received since the last call to the
 * room's own record (the page keeps only its last 500, and partial captions come every few hundred ms).
 */
export async function collectCaptions(rooms: readonly Room[]): Promise<void> {
  for (const room of rooms) {
    const got = (await room.listener.evaluate(() => window.parley!.captions()).catch(() => [])) as CaptionRecord[];
    for (const c of got) {
      if (c.speakerPeerId === room.speakerId) room.captions.set(`${c.receivedAt}|${c.utteranceId}|${c.language}|${c.original}|${c.final}|${c.text}`, c);
    }
  }
}

/** Closes a room's speaker and listener. */
export async function closeRoom(room: Room): Promise<void> {
  await room.speaker.close().catch(() => undefined);
  await room.listener.close().catch(() => undefined);
}
