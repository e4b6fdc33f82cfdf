import type { Page } from 'playwright-core';
import type { InboundVideo } from '../../src/web/call.js';
import { waitFor } from '../../src/devkit/media.js';

/** What `page` decodes of each video it receives. */
export function inboundVideo(page: Page): Promise<InboundVideo[]> {
  return page.evaluate(() => window.parley!.inboundVideo());
}

/** The video `page` receives from `peerId` (source 'cam' unless given), once `ok` holds for it. */
export function waitForVideo(page: Page, peerId: string, ok: (v: InboundVideo) => boolean, what: string, timeoutMs = 30_000, source = 'cam'): Promise<InboundVideo> {
  return waitFor(async () => (await inboundVideo(page)).find((v) => v.peerId === peerId && v.source === source && ok(v)) ?? null, timeoutMs, what);
}

export async function setVideo(page: Page, source: 'cam' | 'screen', on: boolean): Promise<void> {
  await page.evaluate(([s, o]) => window.parley!.setVideo(s as 'cam' | 'screen', o as boolean), [source, on] as const);
}

/** Shows the tiles alone (captions panel closed) in a viewport of this size. */
export async function layout(page: Page, width: number, height: number): Promise<void> {
  await page.setViewportSize({ width, height });
  if ((await page.getAttribute('#captions-button', 'aria-pressed')) === 'true') await page.click('#captions-button');
}
