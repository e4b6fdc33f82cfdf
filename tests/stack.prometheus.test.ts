/**
 * The Prometheus files of stack/ checked by promtool (Debian package
 * `prometheus`, installed by `scripts/setup.sh --test`): both scrape configs,
 * the alert rules, and the rule unit tests that fire every alert from
 * synthetic series. Also: every alert has such a test and a runbook section.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PROM = join(ROOT, 'stack/prometheus');
const PROMTOOL = process.env.PROMTOOL ?? '/usr/bin/promtool';

async function promtool(...args: string[]): Promise<string> {
  if (!existsSync(PROMTOOL)) {
    throw new Error(`promtool not found at ${PROMTOOL}: install the Debian package "prometheus" (scripts/setup.sh --test does), or set PROMTOOL`);
  }
  try {
    const { stdout, stderr } = await promisify(execFile)(PROMTOOL, args, { cwd: PROM });
    return stdout + stderr;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new Error(`promtool ${args.join(' ')} failed:\n${e.stdout ?? ''}${e.stderr ?? e.message}`);
  }
}

type Rules = { groups: Array<{ name: string; rules: Array<{ alert?: string; annotations?: Record<string, string> }> }> };
type RuleTests = { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
const rules = parse(readFileSync(join(PROM, 'rules/parley.rules.yml'), 'utf8')) as Rules;
const alerts = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert);

/**
 * promtool requires the files a config names to exist: the scrape jobs' secrets
 * (credentials_file under /run/secrets, mounted in the container) are moved to
 * stand-in files in `dir`, the rest of the config checked as it is.
 */
function withStandInSecrets(file: string, dir: string): { path: string; secrets: string[] } {
  const secrets: string[] = [];
  const text = readFileSync(join(PROM, file), 'utf8').replace(/(credentials_file:\s*)\/run\/secrets\/([\w.-]+)/g, (_m, key: string, name: string) => {
    writeFileSync(join(dir, name), 'stand-in\n');
    secrets.push(name);
    return `${key}${join(dir, name)}`;
  });
  writeFileSync(join(dir, file), text);
  return { path: join(dir, file), secrets };
}

describe('Prometheus configuration (promtool)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-promtool-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const file of ['prometheus.compose.yml', 'prometheus.swarm.yml']) {
    it(`promtool check config ${file} (the gateways' job sends the metrics token)`, async () => {
      const { path, secrets } = withStandInSecrets(file, dir);
      expect(secrets).toEqual(['metrics_token']);
      expect(await promtool('check', 'config', path)).toMatch(/SUCCESS/);
    });
  }

  it('promtool check rules rules/parley.rules.yml', async () => {
    expect(await promtool('check', 'rules', 'rules/parley.rules.yml')).toMatch(new RegExp(`SUCCESS: ${alerts.length} rules found`));
  });

  it('promtool test rules: every alert fires from synthetic series (and stays quiet when healthy)', async () => {
    expect(await promtool('test', 'rules', 'tests/parley.rules.test.yml')).toMatch(/SUCCESS/);
  });
});

describe('alert coverage', () => {
  const tests = parse(readFileSync(join(PROM, 'tests/parley.rules.test.yml'), 'utf8')) as RuleTests;
  const cases = tests.tests.flatMap((t) => t.alert_rule_test ?? []);

  it('covers what the issue asks for', () => {
    const names = alerts.map((a) => a.alert);
    for (const name of ['ParleyGatewayDown', 'ParleyReplicaStale', 'ParleyMediasoupWorkerDied', 'ParleyAiWorkerDown', 'ParleyTranslationLatencyHigh', 'ParleyAiQueueBacklog', 'ParleyUtterancesDropped', 'ParleyUdpPortBudgetLow', 'ParleyEventLoopLag', 'ParleyRedisUnreachable']) {
      expect(names).toContain(name);
    }
  });

  for (const rule of alerts) {
    it(`${rule.alert}: has a firing unit test and a runbook section`, () => {
      expect(cases.some((c) => c.alertname === rule.alert && c.exp_alerts.length > 0), `no test makes ${rule.alert} fire`).toBe(true);
      const runbook = rule.annotations?.runbook ?? '';
      expect(runbook).toBe(`docs/operations.md#${rule.alert!.toLowerCase()}`);
      expect(readFileSync(join(ROOT, 'docs/operations.md'), 'utf8')).toMatch(new RegExp(`^#+ ${rule.alert}$`, 'm'));
    });
  }
});
