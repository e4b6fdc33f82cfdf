/**
 * Draws docs/call.png: four people in one room with cameras on (Chromium's fake camera, a moving test
 * pattern), one of them sharing a screen and one talking (the active speaker), as the first sees it.
 * Run: `npx tsx scripts/screenshot.ts [out.png]` (starts its own Redis, gateway and Chromium).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmbeddedRedis } from '../src/state/EmbeddedRedis.js';
import { joinCall, launchBrowser } from '../src/devkit/browser.js';
import { startTestGateway } from '../src/devkit/gateway.js';
import { SPEECH_WAV, waitFor } from '../src/devkit/media.js';

const out = process.argv[2] ?? join(fileURLToPath(new URL('..', import.meta.url)), 'docs', 'call.png');
const PEOPLE = [
  { name: 'Ana García', spoken: 'es', listening: 'en' },
  { name: 'Ben Carter', spoken: 'en', listening: 'es' },
  { name: 'Chloé Martin', spoken: 'fr', listening: 'en' },
  { name: 'Dev Patel', spoken: 'en', listening: 'en' },
];

const redis = await EmbeddedRedis.start();
// No AI worker runs here: translation off, so the page shows no saturation notice.
const gateway = await startTestGateway(redis.url, { ai: { enabled: false } });
const browser = await launchBrowser({ fakeAudioWav: SPEECH_WAV });
try {
  const pages = [];
  for (const p of PEOPLE) {
    const page = await browser.newPage();
    await page.setViewportSize({ width: 1440, height: 1280 });
    await joinCall(page, gateway.url, { roomId: 'design-review', displayName: p.name, spokenLanguage: p.spoken, listeningLanguage: p.listening });
    await page.evaluate(() => window.parley!.setVideo('cam', true));
    pages.push(page);
  }
  // Only Ben talks; Dev shares a screen.
  for (const [i, page] of pages.entries()) if (i !== 1) await page.click('#mute-button');
  await pages[3]!.evaluate(() => window.parley!.setVideo('screen', true));
  const viewer = pages[0]!;
  await waitFor(async () => ((await viewer.locator('.tile.active-speaker').count()) === 1 && (await viewer.locator('.tile.screen video').count()) === 1 ? true : null), 30_000, 'the active speaker and the screen share on the first page');
  await waitFor(async () => ((await viewer.evaluate(() => window.parley!.inboundVideo())).filter((v) => v.framesDecoded > 20).length === 4 ? true : null), 30_000, 'every video decoding');
  await viewer.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await gateway.close();
  await redis.stop();
}
