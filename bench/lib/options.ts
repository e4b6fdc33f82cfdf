/** Command-line options of a scenario, parsed against its OptionSpec list. */
import type { OptionSpec, OptionValues } from './types.js';

type Value = OptionValues[string];

function convert(spec: OptionSpec, raw: string): Value {
  switch (spec.type) {
    case 'number': {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n)) throw new TypeError(`--${spec.name} takes a number, got "${raw}"`);
      return n;
    }
    case 'boolean':
      if (['true', '1', 'yes', 'on'].includes(raw)) return true;
      if (['false', '0', 'no', 'off'].includes(raw)) return false;
      throw new TypeError(`--${spec.name} takes true or false, got "${raw}"`);
    case 'list': {
      const numeric = Array.isArray(spec.default) && spec.default.length > 0 && spec.default.every((v) => typeof v === 'number');
      const items = raw.split(',').map((s) => s.trim()).filter((s) => s !== '');
      if (!numeric) return items;
      return items.map((s) => {
        const n = Number(s);
        if (!Number.isFinite(n)) throw new TypeError(`--${spec.name} takes numbers separated by commas, got "${raw}"`);
        return n;
      });
    }
    default:
      return raw;
  }
}

/**
 * `--name value`, `--name=value`, `--flag` / `--no-flag` for booleans. Unset options take
 * their `smoke` value in smoke mode (when given), else their default. Unknown options throw.
 */
export function parseOptions(specs: readonly OptionSpec[], argv: readonly string[], smoke: boolean): OptionValues {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const set: OptionValues = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new TypeError(`unexpected argument "${arg}"`);
    let [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let spec = byName.get(name);
    if (!spec && name.startsWith('no-') && byName.get(name.slice(3))?.type === 'boolean' && inline === undefined) {
      spec = byName.get(name.slice(3))!;
      set[spec.name] = false;
      continue;
    }
    if (!spec) throw new TypeError(`unknown option --${name} (see --help)`);
    if (inline === undefined) {
      const next = argv[i + 1];
      if (spec.type === 'boolean' && (next === undefined || next.startsWith('--'))) {
        set[spec.name] = true;
        continue;
      }
      if (next === undefined) throw new TypeError(`--${name} needs a value`);
      inline = next;
      i += 1;
    }
    set[spec.name] = convert(spec, inline);
  }
  const out: OptionValues = {};
  for (const s of specs) out[s.name] = set[s.name] ?? (smoke && s.smoke !== undefined ? s.smoke : s.default);
  return out;
}

/** Help lines: "--name <type>  help (default X; smoke Y)". */
export function optionsHelp(specs: readonly OptionSpec[]): string {
  const show = (v: Value) => (Array.isArray(v) ? v.join(',') : String(v));
  const heads = specs.map((s) => `--${s.name} <${s.type === 'list' ? 'a,b,...' : s.type}>`);
  const width = Math.max(0, ...heads.map((h) => h.length));
  return specs
    .map((s, i) => `  ${heads[i]!.padEnd(width)}  ${s.help} (default ${show(s.default)}${s.smoke !== undefined ? `; --smoke ${show(s.smoke)}` : ''})`)
    .join('\n');
}
