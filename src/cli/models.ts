/**
 * `parley models`: list the production models, download one, verify what is installed.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CATALOG, findModel, type CatalogEntry } from '../ai/models/catalog.js';
import { downloadModel, isInstalled, ModelDownloadError, verifyModel } from '../ai/models/download.js';

/** Models directory used when --dir is not given (relative to the working directory). */
export const DEFAULT_MODELS_DIR = 'models';

export const MODELS_USAGE = `parley models <list|download|verify> [options]

  list                      Show the production models: name, stage, languages, size, source URL, sha256
  download <name>           Fetch a model (resumable), check it, unpack it into <dir>/<name>
  verify [<name>]           Check that a model (or every installed one) is complete and undamaged

  -d, --dir <path>          Models directory (default ./${DEFAULT_MODELS_DIR})
      --mirror <url>        Download from a mirror that keeps the publishers' paths
      --connect-timeout <ms> Give up on an unreachable host after this long (default 10000)
      --json                list/verify: print JSON
  -h, --help                Show this help

Without these models Parley uses its offline engines (pocketsphinx, apertium, espeak-ng).`;

type Io = { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream };

export async function runModels(args: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      dir: { type: 'string', short: 'd' },
      mirror: { type: 'string' },
      'connect-timeout': { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, name, ...extra] = positionals;
  if (values.help || !command) {
    (values.help ? io.stdout : io.stderr).write(`${MODELS_USAGE}\n`);
    return values.help ? 0 : 2;
  }
  const modelsDir = resolve(values.dir ?? DEFAULT_MODELS_DIR);
  const say = (s: string): boolean => io.stdout.write(`${s}\n`);
  const fail = (s: string): number => (io.stderr.write(`parley models ${command}: ${s}\n`), 1);
  if (extra.length > 0) return fail(`unexpected arguments: ${extra.join(' ')}`);

  switch (command) {
    case 'list': {
      if (values.json) {
        say(JSON.stringify(CATALOG.map((m) => ({ ...m, installed: isInstalled(m, modelsDir) })), null, 2));
        return 0;
      }
      for (const m of CATALOG) say(describe(m, isInstalled(m, modelsDir)));
      say(`\nModels directory: ${modelsDir}`);
      return 0;
    }
    case 'download': {
      if (!name) return fail('which model? (see "parley models list")');
      const entry = findModel(name);
      if (!entry) return fail(`unknown model "${name}" (see "parley models list")`);
      const timeout = values['connect-timeout'] === undefined ? undefined : Number(values['connect-timeout']);
      if (timeout !== undefined && !(timeout > 0)) return fail('--connect-timeout must be a positive number of milliseconds');
      try {
        const { dir } = await downloadModel(entry, { modelsDir, mirror: values.mirror, connectTimeoutMs: timeout, progress: io.stderr });
        say(`${entry.name} installed in ${dir}`);
        return 0;
      } catch (err) {
        if (err instanceof ModelDownloadError) return fail(err.message);
        throw err;
      }
    }
    case 'verify': {
      const entries = name ? [findModel(name)] : [...CATALOG];
      if (entries[0] === undefined) return fail(`unknown model "${name}" (see "parley models list")`);
      const results = await Promise.all(entries.map((m) => verifyModel(m!, modelsDir)));
      if (values.json) say(JSON.stringify(results, null, 2));
      for (const r of values.json ? [] : results) {
        const detail =
          r.status === 'ok' ? `${r.checked} file(s) checksummed` :
          r.status === 'missing' ? `not installed in ${modelsDir}; run \`parley models download ${r.name}\`` :
          r.status === 'incomplete' ? `missing ${r.missing.join(', ')}; run \`parley models download ${r.name}\`` :
          `checksum mismatch: ${r.mismatched.join(', ')}; delete it and download again`;
        say(`${r.name.padEnd(48)} ${r.status.padEnd(10)} ${detail}`);
      }
      // A named model must be usable; for "verify all", only damaged installs fail (absent ones are optional).
      const bad = results.filter((r) => (name ? r.status !== 'ok' : r.status === 'incomplete' || r.status === 'corrupt'));
      return bad.length > 0 ? 1 : 0;
    }
    default:
      return fail(`unknown subcommand "${command}"\n\n${MODELS_USAGE}`);
  }
}

function describe(m: CatalogEntry, installed: boolean): string {
  const url = m.source.kind === 'archive' ? m.source.url : m.homepage;
  const sha = m.source.kind === 'archive' ? m.source.sha256 : undefined;
  const langs = m.stage === 'translate' ? m.languages.join('->') : m.languages.join(',');
  return [
    `${m.name}${installed ? '  [installed]' : ''}`,
    `  ${m.stage.padEnd(9)} ${langs.padEnd(16)} ~${m.approxSizeMB} MB  ${m.description}`,
    `  url:    ${url}`,
    `  sha256: ${sha ?? '(not published)'}`,
  ].join('\n');
}
