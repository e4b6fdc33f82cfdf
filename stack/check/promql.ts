/**
 * Metric names used by PromQL expressions (alert rules, dashboard queries),
 * to check them against what the processes really export. Not a full PromQL
 * parser: it removes what cannot be a metric name (strings, label matchers,
 * range selectors, grouping clauses, numbers), then keeps identifiers that are
 * not function calls or keywords.
 */

const KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'inf', 'nan']);

/** Series Prometheus itself makes for every target; not exported by a process. */
export const PROMETHEUS_SERIES = new Set(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);

/** Metric names referenced by one expression (Grafana `label_values(metric, label)` included). */
export function metricNames(expr: string): string[] {
  const labelValues = /label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{[^}]*\})?\s*,[^)]*\)/g;
  const names = new Set<string>();
  let rest = expr.replace(labelValues, (_m, metric: string) => {
    names.add(metric);
    return ' ';
  });
  rest = rest
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, ' ') // strings
    .replace(/\{[^}]*\}/g, ' ') // label matchers
    .replace(/\[[^\]]*\]/g, ' ') // ranges and subqueries
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // grouping label lists
    .replace(/\$\{?\w+\}?/g, ' ') // dashboard variables
    .replace(/\b(\d+(ms|s|m|h|d|w|y))+\b/g, ' ') // durations (offset 5m)
    .replace(/\b\d+(\.\d+)?(e[+-]?\d+)?\b/gi, ' '); // numbers
  for (const m of rest.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?/g)) {
    const [token, call] = [m[0].replace(/\s*\($/, ''), m[1]];
    if (call || KEYWORDS.has(token.toLowerCase())) continue;
    names.add(token);
  }
  return [...names];
}

/** `# TYPE name kind` lines of a Prometheus text exposition, as name -> kind. */
export function exportedMetrics(exposition: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) out.set(m[1]!, m[2]!);
  return out;
}

/** Whether `name` is served by one of the expositions' metrics (histogram/summary series suffixes included). */
export function isExported(name: string, exported: Map<string, string>): boolean {
  if (exported.has(name) || PROMETHEUS_SERIES.has(name)) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  if (!m) return false;
  const kind = exported.get(m[1]!);
  return kind === 'histogram' || (kind === 'summary' && m[2] !== 'bucket');
}
