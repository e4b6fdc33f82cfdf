// Container health probe: exits 0 when the URL given as argument answers 2xx
// within 2 s, else 1. Node's fetch, so the slim images need no curl.
const url = process.argv[2];
if (!url) {
  console.error('usage: node healthcheck.mjs <url>');
  process.exit(2);
}
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
  process.exit(res.ok ? 0 : 1);
} catch (err) {
  console.error(`health probe ${url}: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
