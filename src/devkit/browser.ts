/**
 * Headless Chromium for real-browser tests: launched through playwright-core with the flags from
 * /work/shared/notes/environment.md ("A real browser call on loopback"), a throwaway profile, and
 * helpers that drive the Parley page through its form and read its `window.parley` debug hook.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import type { InboundAudio } from '../web/debug.js';
import type { ConnectionState } from '../web/session.js';

export type LaunchOptions = {
  /** WAV file Chromium loops as the fake microphone (made absolute here). */
  fakeAudioWav?: string;
  /** Extra Chromium flags. */
  args?: string[];
};

export type ParleyBrowser = {
  context: BrowserContext;
  /** Opens a tab; its console errors and page errors are collected in `logs`. */
  newPage: () => Promise<Page>;
  /** Console errors and uncaught page errors of every tab, for failure messages. */
  logs: string[];
  /** Closes the browser and deletes its profile. Idempotent. */
  close: () => Promise<void>;
};

export type JoinOptions = {
  roomId: string;
  displayName: string;
  spokenLanguage?: string;
  listeningLanguage?: string;
  /** A join token to pass as `?token=` instead of asking /dev/token. */
  token?: string;
  /** Browser audio processing (AGC, AEC, NS); off by default so measurements see the source. */
  audioProcessing?: boolean;
  /** `?role=listener` joins without a microphone (dev tokens only). */
  role?: 'speaker' | 'listener';
  /** How long to wait for the connected state. */
  timeoutMs?: number;
  /** `?relay=1`: media only through the gateway's TURN servers. */
  relay?: boolean;
};

export const CHROMIUM_PATH = '/usr/bin/chromium';

export async function launchBrowser(options: LaunchOptions = {}): Promise<ParleyBrowser> {
  const userDataDir = await mkdtemp(join(tmpdir(), 'parley-chromium-'));
  const args = [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--use-fake-ui-for-media-stream',
    '--use-fake-device-for-media-stream',
    '--autoplay-policy=no-user-gesture-required',
    '--allow-loopback-in-peer-connection',
  ];
  if (options.fakeAudioWav) {
    const wav = isAbsolute(options.fakeAudioWav) ? options.fakeAudioWav : resolve(options.fakeAudioWav);
    args.push(`--use-file-for-fake-audio-capture=${wav}`);
  }
  args.push(...(options.args ?? []));

  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args,
      permissions: ['microphone', 'camera'],
      viewport: { width: 1280, height: 800 },
    });
  } catch (err) {
    await rm(userDataDir, { recursive: true, force: true });
    throw err;
  }

  const logs: string[] = [];
  let closed: Promise<void> | null = null;
  return {
    context,
    logs,
    newPage: async () => {
      const page = await context.newPage();
      page.on('console', (msg) => {
        if (msg.type() === 'error' || msg.type() === 'warning') logs.push(`[${msg.type()}] ${msg.text()}`);
      });
      page.on('pageerror', (err) => logs.push(`[pageerror] ${err.message}`));
      return page;
    },
    close: () => {
      closed ??= (async () => {
        await context.close().catch(() => undefined);
        await rm(userDataDir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

/** Opens the Parley page, fills in the join form, clicks Join and waits until connected. */
export async function joinCall(page: Page, baseUrl: string, options: JoinOptions): Promise<void> {
  const url = new URL('/', baseUrl);
  url.searchParams.set('room', options.roomId);
  if (options.audioProcessing !== true) url.searchParams.set('audioProcessing', 'off');
  if (options.token) url.searchParams.set('token', options.token);
  if (options.role) url.searchParams.set('role', options.role);
  if (options.relay) url.searchParams.set('relay', '1');
  await page.goto(url.toString());
  await page.waitForFunction(() => window.parley !== undefined);

  await page.fill('#room-input', options.roomId);
  await page.fill('#name-input', options.displayName);
  await page.selectOption('#spoken-input', options.spokenLanguage ?? 'en');
  await page.selectOption('#listening-input', options.listeningLanguage ?? 'en');
  await page.click('#join-button');

  const state = await waitForState(page, ['connected', 'disconnected', 'idle'], options.timeoutMs ?? 20_000);
  if (state !== 'connected') {
    const error = await page.evaluate(() => window.parley?.lastError ?? null);
    throw new Error(`joinCall: ended ${state}${error ? ` with ${error.code}: ${error.message}` : ''}`);
  }
}

/** Resolves with the page's state once it is one of `states`. */
export async function waitForState(page: Page, states: ConnectionState[], timeoutMs = 20_000): Promise<ConnectionState> {
  const handle = await page.waitForFunction(
    (wanted) => {
      const state = window.parley?.state;
      return state && wanted.includes(state) ? state : null;
    },
    states,
    { timeout: timeoutMs, polling: 50 },
  );
  return (await handle.jsonValue()) as ConnectionState;
}

/** getStats() of every audio consumer on the page: bytes received and total audio energy. */
export async function inboundAudio(page: Page): Promise<InboundAudio[]> {
  return page.evaluate(() => window.parley?.inboundAudio() ?? Promise.resolve([]));
}

/** Clicks Leave and waits for the join form. */
export async function leaveCall(page: Page, timeoutMs = 10_000): Promise<void> {
  await page.click('#leave-button');
  await waitForState(page, ['idle'], timeoutMs);
}

/** Opens a tab, joins `roomId` on `baseUrl` as `displayName`, and returns the page with its peer id. */
export async function joinAs(browser: ParleyBrowser, baseUrl: string, roomId: string, displayName: string): Promise<{ page: Page; peerId: string }> {
  const page = await browser.newPage();
  await joinCall(page, baseUrl, { roomId, displayName });
  return { page, peerId: await page.evaluate(() => window.parley!.peerId!) };
}
