import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { PeerRole } from '../src/protocol/messages.js';
import { RoomServiceClient } from '../src/sdk/RoomServiceClient.js';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { joinCall, launchBrowser, waitForState, type ParleyBrowser } from '../src/devkit/browser.js';
import { startReplicas } from '../src/devkit/cluster.js';
import type { GatewayProcess } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';
import { testToken } from '../src/devkit/signaling.js';

/** The server API's key pair on every replica (for permission changes from an app's backend). */
const API = { key: 'test-key', secret: 'test-api-secret-0123456789-abcdefghij' };
const API_ENV = { PARLEY_API_KEYS: `${API.key}:${API.secret}` };

let redis: EmbeddedRedis;
let browser: ParleyBrowser;
let replicas: GatewayProcess[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  redis = await EmbeddedRedis.start();
  browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close().catch(() => undefined)));
  await Promise.all(replicas.map((r) => r.kill()));
  replicas = [];
});

afterAll(async () => {
  await browser?.close();
  await redis?.stop();
});

/** A page joined to `roomId` on `replica` with a token for `role` (`identity` is also its name); returns it with its peer id. */
async function joinWith(replica: GatewayProcess, roomId: string, identity: string, role: PeerRole): Promise<{ page: Page; peerId: string }> {
  const page = await browser.newPage();
  pages.push(page);
  const token = await testToken(roomId, identity, { role, displayName: identity });
  await joinCall(page, replica.url, { roomId, displayName: identity, token });
  return { page, peerId: await page.evaluate(() => window.parley!.peerId!) };
}

/** The microphone producer of `peerId` as `page` knows it (null until announced). */
async function micOf(page: Page, peerId: string): Promise<{ producerId: string; paused: boolean } | null> {
  return page.evaluate((id) => {
    const mic = window.parley!.peers().find((p) => p.peerId === id)?.producers.find((p) => p.source === 'mic');
    return mic ? { producerId: mic.producerId, paused: mic.paused } : null;
  }, peerId);
}

const failure = (): string => `\nbrowser logs:\n${browser.logs.slice(-20).join('\n')}\nreplica logs:\n${replicas.map((r) => r.logs().split('\n').filter((l) => /"level":(40|50)/.test(l)).slice(-10).join('\n')).join('\n')}`;

describe('moderation from the page, across two replicas', () => {
  it('an admin mutes, unmutes and removes a speaker on another replica, then ends the room for everyone', async () => {
    replicas = await startReplicas(redis.url, 2, 'mod');
    const [a, b] = replicas as [GatewayProcess, GatewayProcess];
    const { page: admin } = await joinWith(a, 'moderated', 'Admin', 'admin');
    const { page: speaker, peerId: speakerId } = await joinWith(b, 'moderated', 'Speaker', 'speaker');
    const { page: guest } = await joinWith(b, 'moderated', 'Guest', 'speaker');
    const speakerTile = `[data-peer-id="${speakerId}"]`;

    // Only the admin sees the controls: on the speaker's tile, and End room.
    await waitFor(() => micOf(admin, speakerId), 20_000, "the speaker's microphone at the admin").catch((err: Error) => {
      throw new Error(err.message + failure());
    });
    await admin.locator(`${speakerTile} [data-testid="mute-peer"]`).waitFor({ state: 'visible', timeout: 10_000 });
    expect(await admin.locator(`${speakerTile} [data-testid="remove-peer"]`).isVisible()).toBe(true);
    expect(await admin.getByTestId('end-room').isVisible()).toBe(true);
    expect(await admin.evaluate(() => window.parley!.permissions?.moderate)).toBe(true);
    expect(await speaker.evaluate(() => window.parley!.permissions?.moderate)).toBe(false);
    expect(await speaker.locator('[data-testid="mute-peer"], [data-testid="remove-peer"]').count()).toBe(0);
    expect(await speaker.getByTestId('end-room').isVisible()).toBe(false);

    // Mute: the speaker's page says so and pauses its own producer; everyone sees the speaker muted.
    await admin.locator(`${speakerTile} [data-testid="mute-peer"]`).click();
    await speaker.getByTestId('moderator-muted').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await speaker.evaluate(() => window.parley!.mic)).toMatchObject({ muted: true, moderatorMuted: true, userMuted: false });
    expect(await speaker.locator('#mute-button').getAttribute('aria-pressed')).toBe('true');
    await waitFor(async () => ((await micOf(admin, speakerId))?.paused ? true : null), 10_000, 'the speaker muted at the admin');
    await waitFor(async () => ((await micOf(guest, speakerId))?.paused ? true : null), 10_000, 'the speaker muted at the guest');
    await admin.locator(`${speakerTile} .mic-badge`).filter({ hasText: 'Muted' }).waitFor({ timeout: 5_000 });
    expect(await admin.locator(`${speakerTile} [data-testid="mute-peer"]`).textContent()).toBe('Unmute');

    // Unmute: the speaker's own toggle was on, so the microphone is live again.
    await admin.locator(`${speakerTile} [data-testid="mute-peer"]`).click();
    await speaker.getByTestId('moderator-unmuted').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await speaker.evaluate(() => window.parley!.mic)).toMatchObject({ muted: false, moderatorMuted: false });
    await waitFor(async () => ((await micOf(admin, speakerId))?.paused === false ? true : null), 10_000, 'the speaker unmuted at the admin');

    // Remove with a reason: the speaker's page says why and does not come back.
    await admin.locator(`${speakerTile} [data-testid="remove-peer"]`).click();
    await admin.locator(`${speakerTile} [data-testid="remove-peer-reason"]`).fill('spam');
    await admin.locator(`${speakerTile} [data-testid="remove-peer-confirm"]`).click();
    expect(await waitForState(speaker, ['disconnected', 'idle'], 10_000)).toBe('disconnected');
    await expect.poll(() => speaker.getByTestId('ended-reason').textContent()).toBe('You were removed from the room: spam');
    expect(await speaker.getByTestId('ended-reason').isVisible()).toBe(true);
    expect(await speaker.evaluate(() => window.parley!.lastError?.code)).toBe('ERR_PEER_REMOVED');
    await waitFor(async () => ((await micOf(admin, speakerId)) === null && (await admin.locator(speakerTile).count()) === 0 ? true : null), 10_000, 'the speaker gone at the admin');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await speaker.evaluate(() => ({ state: window.parley!.state, reconnects: window.parley!.reconnects }))).toEqual({ state: 'disconnected', reconnects: 0 });
    expect(await admin.evaluate(() => window.parley!.lastError)).toBeNull();

    // End the room: the guest (on the other replica) and the admin both end, told why.
    await admin.getByTestId('end-room').click();
    await admin.getByTestId('end-room-reason').fill('meeting over');
    await admin.getByTestId('end-room-confirm').click();
    expect(await waitForState(guest, ['disconnected', 'idle'], 10_000)).toBe('disconnected');
    await expect.poll(() => guest.getByTestId('ended-reason').textContent()).toBe('The room was ended by a moderator: meeting over');
    expect(await waitForState(admin, ['disconnected', 'idle'], 10_000)).toBe('disconnected');
    await expect.poll(() => admin.getByTestId('ended-reason').textContent()).toBe('You ended the room for everyone.');
    expect(await admin.getByTestId('end-room').isVisible()).toBe(false);
    await new Promise((r) => setTimeout(r, 1_500));
    for (const page of [guest, admin]) expect(await page.evaluate(() => window.parley!.state)).toBe('disconnected');
  }, 150_000);
});

describe('the server API, on a page hosted by the other replica', () => {
  it("a speaker's microphone is taken away and given back; an admin's controls go when `moderate` does; mute and removal show on the page", async () => {
    replicas = await startReplicas(redis.url, 2, 'perm', API_ENV);
    const [a, b] = replicas as [GatewayProcess, GatewayProcess];
    const api = new RoomServiceClient(a.url, API.key, API.secret);
    const { page: admin } = await joinWith(a, 'perms', 'Admin', 'admin');
    const { page: speaker, peerId: speakerId } = await joinWith(b, 'perms', 'Speaker', 'speaker');
    const first = await waitFor(() => micOf(admin, speakerId), 20_000, "the speaker's microphone at the admin");

    // No more audio: the server closes the producer; the page shows the mic as not allowed and does not send it again.
    await api.updatePermissions('perms', 'Speaker', { publishAudio: false });
    await speaker.getByTestId('mic-forbidden').waitFor({ state: 'visible', timeout: 10_000 });
    expect(await speaker.evaluate(() => window.parley!.mic)).toMatchObject({ allowed: false, muted: true });
    expect(await speaker.locator('#mute-button').isDisabled()).toBe(true);
    await waitFor(async () => ((await micOf(admin, speakerId)) === null ? true : null), 10_000, "the speaker's microphone gone at the admin");
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await micOf(admin, speakerId)).toBeNull();
    expect(await speaker.evaluate(() => window.parley!.lastError)).toBeNull();

    // Audio allowed again: the page sends its microphone again, as a new producer.
    await api.updatePermissions('perms', 'Speaker', { publishAudio: true });
    const again = await waitFor(() => micOf(admin, speakerId), 10_000, "the speaker's microphone back at the admin");
    expect(again.producerId).not.toBe(first.producerId);
    expect(again.paused).toBe(false);
    expect(await speaker.getByTestId('mic-forbidden').count()).toBe(0);
    expect(await speaker.locator('#mute-button').isDisabled()).toBe(false);

    // The admin loses `moderate`: its controls go.
    await admin.getByTestId('end-room').waitFor({ state: 'visible', timeout: 5_000 });
    await api.updatePermissions('perms', 'Admin', { moderate: false });
    await admin.getByTestId('end-room').waitFor({ state: 'hidden', timeout: 10_000 });
    expect(await admin.locator('[data-testid="mute-peer"], [data-testid="remove-peer"]').count()).toBe(0);
    expect(await admin.evaluate(() => window.parley!.state)).toBe('connected');

    // Muted through the API (asked of replica A; the speaker is on B): its page shows it.
    await api.muteTrack('perms', 'Speaker', again.producerId, true);
    await speaker.getByTestId('moderator-muted').waitFor({ state: 'visible', timeout: 10_000 });
    await waitFor(async () => ((await micOf(admin, speakerId))?.paused ? true : null), 10_000, "the speaker's microphone paused at the admin");

    // Removed through the API: the page shows the reason and stays out.
    await api.removeParticipant('perms', 'Speaker', 'via api');
    expect(await waitForState(speaker, ['disconnected', 'idle'], 10_000)).toBe('disconnected');
    await expect.poll(() => speaker.getByTestId('ended-reason').textContent()).toBe('You were removed from the room: via api');
  }, 150_000);
});
