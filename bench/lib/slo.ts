/**
 * Latency SLOs: bench/slo.yaml maps a scenario to figure names and bounds,
 *
 *   pipeline:
 *     e2e_p50_ms: { max: 510 }
 *     samples_n: { min: 20 }
 *
 * and every run states pass, fail or "no data" (the figure was not produced) for each.
 */
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

export type SloBound = { max?: number; min?: number };
/** scenario -> figure -> bound */
export type SloConfig = Record<string, Record<string, SloBound>>;

export type SloVerdict = {
  figure: string;
  bound: SloBound;
  value: number | null;
  verdict: 'pass' | 'fail' | 'no data';
};

/** Parses and checks the SLO file's text; throws TypeError naming the bad entry. */
export function parseSlo(text: string): SloConfig {
  const raw: unknown = parse(text) ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('slo: the file must map scenario names to figures');
  const out: SloConfig = {};
  for (const [scenario, figures] of Object.entries(raw as Record<string, unknown>)) {
    if (figures === null) continue;
    if (typeof figures !== 'object' || Array.isArray(figures)) throw new TypeError(`slo: ${scenario} must map figure names to {max|min: number}`);
    out[scenario] = {};
    for (const [figure, bound] of Object.entries(figures as Record<string, unknown>)) {
      const b = bound as Record<string, unknown> | null;
      const keys = b && typeof b === 'object' ? Object.keys(b) : [];
      if (keys.length === 0 || keys.some((k) => (k !== 'max' && k !== 'min') || typeof b![k] !== 'number')) {
        throw new TypeError(`slo: ${scenario}.${figure} must be {max: <number>} and/or {min: <number>}`);
      }
      out[scenario]![figure] = b as SloBound;
    }
  }
  return out;
}

export async function loadSlo(path: string): Promise<SloConfig> {
  return parseSlo(await readFile(path, 'utf8'));
}

/** The verdict of every SLO of `scenario` against `figures`, in the file's order. */
export function evaluateSlo(config: SloConfig, scenario: string, figures: Record<string, number>): SloVerdict[] {
  return Object.entries(config[scenario] ?? {}).map(([figure, bound]) => {
    const value = figures[figure];
    if (value === undefined || !Number.isFinite(value)) return { figure, bound, value: null, verdict: 'no data' as const };
    const ok = (bound.max === undefined || value <= bound.max) && (bound.min === undefined || value >= bound.min);
    return { figure, bound, value, verdict: ok ? ('pass' as const) : ('fail' as const) };
  });
}

/** "e2e_p50_ms <= 510" (and ">= min"). */
export function describeBound(figure: string, bound: SloBound): string {
  const parts: string[] = [];
  if (bound.min !== undefined) parts.push(`>= ${bound.min}`);
  if (bound.max !== undefined) parts.push(`<= ${bound.max}`);
  return `${figure} ${parts.join(' and ')}`;
}

/** One line per verdict: "PASS  pipeline  e2e_p50_ms <= 510  (value 402)". */
export function verdictLines(scenario: string, verdicts: SloVerdict[]): string[] {
  return verdicts.map((v) => `SLO ${v.verdict.toUpperCase().padEnd(7)} ${scenario}: ${describeBound(v.figure, v.bound)} (measured ${v.value ?? 'no data'})`);
}
