import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A real speech clip shipped by Debian's pocketsphinx-testdata (installed by scripts/setup.sh --test). */
export const SPEECH_WAV = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

if (!existsSync(SPEECH_WAV)) {
  throw new Error(`${SPEECH_WAV} is missing: run "./parley setup --test" (installs pocketsphinx-testdata)`);
}

/** Polls `probe` until it returns non-null, or throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | null>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown = null;
  for (;;) {
    try {
      const v = await probe();
      if (v !== null && v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The speech clip followed by 1.5 s of silence (made with sox): Chromium loops
 * its fake microphone, and real speakers pause between sentences.
 */
export function speechWithPauses(): string {
  const out = join(tmpdir(), 'parley-speech-with-pauses.wav');
  if (!existsSync(out)) execFileSync('sox', [SPEECH_WAV, out, 'pad', '0', '1.5']);
  return out;
}
