/**
 * Records what pocketsphinx's streaming session says after every 160 ms chunk of each LibriVox clip
 * (the traces the commit policy's unit tests replay): src/ai/simultaneous/traces/librivox.json.
 * Run: npx tsx scripts/record-hypotheses.ts
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseWav } from '../src/ai/audio/wav.js';
import { PocketsphinxStt } from '../src/ai/engines/pocketsphinx.js';

const CLIPS = '/usr/share/pocketsphinx/test/data/librivox';
const CHUNK = 2560;
const stt = await PocketsphinxStt.create();
const traces = [];
for (const file of readdirSync(CLIPS).filter((f) => f.endsWith('.wav')).sort()) {
  const audio = parseWav(readFileSync(join(CLIPS, file)));
  const session = await stt.open('en');
  const hypotheses: Array<[audioMs: number, text: string]> = [];
  for (let at = 0; at < audio.samples.length; at += CHUNK) {
    const chunk = audio.samples.subarray(at, at + CHUNK);
    const { text } = await session.push(chunk);
    hypotheses.push([Math.round(((at + chunk.length) / 16000) * 1000), text.trim()]);
  }
  const { text: final } = await session.finish();
  traces.push({ clip: file.replace(/\.wav$/, ''), chunkMs: 160, final: final.trim(), hypotheses });
  console.log(file, '->', final.trim());
}
await stt.close();
// One hypothesis per line, so a diff of two recordings reads like the decoder's output.
const lines = traces.map((t) => `{"clip": ${JSON.stringify(t.clip)}, "chunkMs": 160, "final": ${JSON.stringify(t.final)}, "hypotheses": [\n${t.hypotheses.map((h) => `  ${JSON.stringify(h)}`).join(',\n')}\n]}`);
writeFileSync('src/ai/simultaneous/traces/librivox.json', `[\n${lines.join(',\n')}\n]\n`);
