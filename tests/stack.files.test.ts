/**
 * Offline validation of stack/ (no Docker engine here): the Compose and Swarm
 * files parse and hang together, the Dockerfiles pass our lint
 * (stack/check/dockerfile.ts, in place of hadolint), the Grafana JSON is what
 * stack/grafana/dashboards.ts generates, and the images' entry point turns
 * secret files and the machine file into configuration.
 */
import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { configSchema, envNameFor, loadConfig } from '../src/config/load.js';
import { checkSwarmDeploy, checkTraefik, hostPorts, portCollisions } from '../stack/check/deploy.js';
import { copySourcesIgnored, lintDockerfile } from '../stack/check/dockerfile.js';
import { checkMetricsToken, checkTrustProxy, checkTurn } from '../stack/check/edge.js';
import { checkFiles, checkImages, checkParleyEnv, checkReferences, checkSecrets, environment, readStack, services } from '../stack/check/stackfile.js';
import { dashboards, render } from '../stack/grafana/dashboards.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STACK = join(ROOT, 'stack');
const read = (path: string) => readFileSync(join(STACK, path), 'utf8');
const IMAGES = ['gateway', 'ai-worker'];
const dockerfiles = new Map(IMAGES.map((name) => [name, read(`docker/${name}.Dockerfile`)]));
const compose = readStack(join(STACK, 'compose.yaml'));
/** The Docker CLI, when this machine has one (setup does not install it; no engine is needed). */
const DOCKER = ['/usr/local/bin/docker', '/usr/bin/docker'].find((p) => existsSync(p));
const swarm = readStack(join(STACK, 'swarm.yaml'));

/** PARLEY_* names of every configuration key. */
function configEnvNames(): Set<string> {
  const names = new Set<string>();
  const walk = (node: Record<string, unknown>, path: string[]) => {
    for (const [key, value] of Object.entries(node)) {
      if (value !== null && typeof value === 'object' && !Array.isArray(value)) walk(value as Record<string, unknown>, [...path, key]);
      else names.add(envNameFor([...path, key]));
    }
  };
  walk(configSchema.parse({}) as Record<string, unknown>, []);
  return names;
}

/** PARLEY_TURN_URLS as the configuration loader reads it. */
const turnUrls = (raw: string) => loadConfig({ env: { PARLEY_TURN_URLS: raw } }).turn.urls;

/** The gateways' TURN URLs and secret, /metrics token and proxy trust, against coturn, Prometheus and Traefik. */
const edgeProblems = (stack: typeof compose, prometheusConfig: string) => [
  ...checkTurn(stack, read('coturn/turnserver.conf'), turnUrls),
  ...checkMetricsToken(stack, prometheusConfig),
  ...checkTrustProxy(stack),
];

describe('stack files: Compose (one host)', () => {
  it('has Redis, two gateway replicas, AI workers, Prometheus, Grafana and coturn', () => {
    const names = [...services(compose).keys()];
    expect(names).toEqual(expect.arrayContaining(['redis', 'gateway-1', 'gateway-2', 'ai-worker', 'prometheus', 'grafana', 'coturn']));
  });

  it('references only declared networks, secrets, configs and volumes, and existing files', () => {
    expect(checkReferences(compose)).toEqual([]);
    expect(checkFiles(compose)).toEqual([]);
  });

  it('keeps secrets in git-ignored files and PARLEY_* variables are configuration keys', () => {
    expect(checkSecrets(compose, 'compose')).toEqual([]);
    expect(checkParleyEnv(compose, configEnvNames())).toEqual([]);
    expect(read('secrets/.gitignore')).toMatch(/^\*$/m);
  });

  it('builds our images from our Dockerfiles and pins every other image', () => {
    expect(checkImages(compose, dockerfiles)).toEqual([]);
  });

  it('gives each host-network service its own ports (HTTP, WebRtcServer, pipe range, TURN, published)', () => {
    const ports = hostPorts(compose, read('coturn/turnserver.conf'));
    expect(ports.filter((p) => p.what === 'pipe range').map((p) => p.service).sort()).toEqual(['gateway-1', 'gateway-2']);
    expect(portCollisions(ports)).toEqual([]);
    expect(new Set(['gateway-1', 'gateway-2'].map((g) => environment(services(compose).get(g)!).get('PARLEY_REPLICA_ID'))).size).toBe(2);
  });

  it("gives the gateways coturn's URLs and secret and a /metrics token Prometheus sends; no proxy, so no trustProxy", () => {
    expect(edgeProblems(compose, read('prometheus/prometheus.compose.yml'))).toEqual([]);
    const env = environment(services(compose).get('gateway-1')!);
    expect(turnUrls(env.get('PARLEY_TURN_URLS')!.replaceAll('${HOST_IP}', '192.0.2.1'))).toEqual(['turn:192.0.2.1:3478?transport=udp', 'turn:192.0.2.1:3478?transport=tcp']);
    // turnserver.conf denies private peers; HOST_IP is often one.
    expect(environment(services(compose).get('coturn')!).get('TURN_ALLOWED_PEER_IP')).toMatch(/^\$\{HOST_IP/);
  });

  it('flags a gateway without the TURN secret, a URL that is not TURN, a token Prometheus does not send, trustProxy without a proxy (not vacuous)', () => {
    const broken = structuredClone(compose);
    const gw = (broken.doc.services as Record<string, { environment: Record<string, string>; secrets: string[] }>)['gateway-2']!;
    gw.environment.PARLEY_TURN_URLS = '["stun:192.0.2.1:3478","turn:192.0.2.1:3478?transport=tcp"]';
    gw.environment.PARLEY_HTTP_TRUST_PROXY = 'true';
    gw.environment.PARLEY_AUTH_METRICS_TOKEN_FILE = '/run/secrets/other_token';
    gw.secrets = gw.secrets.filter((x) => x !== 'turn_secret');
    const problems = edgeProblems(broken, read('prometheus/prometheus.compose.yml')).join('\n');
    expect(problems).toMatch(/gateway-2: "stun:192\.0\.2\.1:3478" is not a TURN URL/);
    expect(problems).toMatch(/gateway-2: PARLEY_TURN_SECRET_FILE=\/run\/secrets\/turn_secret is not one of its secrets/);
    expect(problems).toMatch(/gateway-2: PARLEY_AUTH_METRICS_TOKEN_FILE=\/run\/secrets\/other_token is not one of its secrets/);
    expect(problems).toMatch(/credentials_file must be \/run\/secrets\/other_token/);
    expect(problems).toMatch(/gateway-2: PARLEY_HTTP_TRUST_PROXY=true with no proxy/);
    expect(problems).not.toMatch(/gateway-1/);
  });

  it('detects a collision when one is introduced (the check is not vacuous)', () => {
    const broken = structuredClone(compose);
    const env = (broken.doc.services as Record<string, { environment: Record<string, string> }>)['gateway-2']!.environment;
    env.PARLEY_MEDIA_PIPE_PORT_MIN = '41400';
    expect(portCollisions(hostPorts(broken, read('coturn/turnserver.conf')))).toEqual([expect.stringMatching(/gateway-1 \(pipe range.*overlaps gateway-2/)]);
  });
});

describe('stack files: Swarm (several machines)', () => {
  it('has gateways, AI workers, Redis, Traefik, coturn, Prometheus and Grafana', () => {
    expect([...services(swarm).keys()]).toEqual(expect.arrayContaining(['gateway', 'ai-worker', 'redis', 'traefik', 'coturn', 'prometheus', 'grafana']));
  });

  it('references only declared networks, secrets, configs and volumes, and existing files', () => {
    expect(checkReferences(swarm)).toEqual([]);
    expect(checkFiles(swarm)).toEqual([]);
  });

  it('holds no secret: all are external; PARLEY_* variables are configuration keys', () => {
    expect(checkSecrets(swarm, 'swarm')).toEqual([]);
    expect(checkParleyEnv(swarm, configEnvNames())).toEqual([]);
  });

  it('uses our images under their documented names and pins every other image', () => {
    expect(checkImages(swarm, dockerfiles)).toEqual([]);
  });

  it('runs host-network services once per labelled machine and rolls gateways and AI workers with health checks and rollback', () => {
    const withImageHealthcheck = new Set([...dockerfiles].filter(([, text]) => /^HEALTHCHECK /m.test(text)).map(([name]) => name));
    expect(checkSwarmDeploy(swarm, ['gateway', 'ai-worker'], withImageHealthcheck)).toEqual([]);
    const gateway = services(swarm).get('gateway')!;
    // stop-first: a new gateway task needs the ports the old one holds on that machine.
    expect((gateway.deploy as { update_config: { order: string } }).update_config.order).toBe('stop-first');
  });

  it('keeps the ports of everything that may share a machine apart (gateway, coturn, Traefik, Redis and its sentinels)', () => {
    const ports = hostPorts(swarm, read('coturn/turnserver.conf'));
    expect(ports.map((p) => p.service)).toEqual(expect.arrayContaining(['gateway', 'coturn', 'traefik', 'redis', 'sentinel']));
    expect(portCollisions(ports)).toEqual([]);
  });

  it("gives the gateways the TURN URLs under turn.<domain> and coturn's secret, a /metrics token Prometheus sends, and trustProxy behind Traefik", () => {
    expect(edgeProblems(swarm, read('prometheus/prometheus.swarm.yml'))).toEqual([]);
    const broken = structuredClone(swarm);
    const gw = (broken.doc.services as Record<string, { environment: Record<string, string> }>).gateway!;
    delete gw.environment.PARLEY_HTTP_TRUST_PROXY;
    gw.environment.PARLEY_TURN_URLS = 'turn:turn.example.com:3479';
    const problems = edgeProblems(broken, read('prometheus/prometheus.swarm.yml')).join('\n');
    expect(problems).toMatch(/behind Traefik without PARLEY_HTTP_TRUST_PROXY=true/);
    expect(problems).toMatch(/turn:turn\.example\.com:3479 is not on coturn's turn port 3478/);
  });

  // Docker's own loader and schema, run by the CLI alone. Reported as skipped (never passed) without a Docker CLI.
  it.skipIf(!DOCKER)('docker stack config accepts swarm.yaml (Docker CLI schema validation, no engine needed)', async () => {
    const { stdout } = await promisify(execFile)(DOCKER!, ['stack', 'config', '-c', join(STACK, 'swarm.yaml')], {
      env: { ...process.env, PARLEY_DOMAIN: 'parley.example.com', ACME_EMAIL: 'ops@example.com', PARLEY_REDIS_SENTINELS: 'r1:26379,r2:26379,r3:26379', PARLEY_REDIS_SEED: 'r1:6379' },
    });
    expect(stdout).toMatch(/PARLEY_REPLICA_ID: '\{\{\.Node\.Hostname\}\}'/);
  });

  it('configures Traefik v3: swarm provider, deploy labels, camelCase header options, middlewares that exist', () => {
    expect(checkTraefik(swarm, read('traefik/traefik.yml'), read('traefik/gateways.yml'))).toEqual([]);
  });

  it('flags Traefik v2 habits (the checks are not vacuous)', () => {
    const broken = structuredClone(swarm);
    const traefik = (broken.doc.services as Record<string, { deploy: { labels: string[] } }>).traefik!;
    traefik.deploy.labels.push('traefik.http.middlewares.parley-headers.headers.STSSeconds=1', 'traefik.docker.network=x', 'traefik.http.routers.x.middlewares=nope');
    const problems = checkTraefik(broken, 'providers:\n  docker:\n    swarmMode: true\n', read('traefik/gateways.yml'));
    expect(problems.join('\n')).toMatch(/STSSeconds/);
    expect(problems.join('\n')).toMatch(/traefik\.docker\.network/);
    expect(problems.join('\n')).toMatch(/middleware nope/);
    expect(problems.join('\n')).toMatch(/providers\.swarm missing/);
  });
});

describe('Dockerfiles', () => {
  for (const name of IMAGES) {
    it(`${name}.Dockerfile passes the lint and copies only what its .dockerignore lets in`, () => {
      expect(lintDockerfile(dockerfiles.get(name)!, ROOT)).toEqual([]);
      expect(copySourcesIgnored(dockerfiles.get(name)!, read(`docker/${name}.Dockerfile.dockerignore`))).toEqual([]);
    });
  }

  it('builds the mediasoup worker in the gateway image with the setup script, against the same Debian packages', () => {
    const gateway = dockerfiles.get('gateway')!;
    expect(gateway).toMatch(/bash scripts\/build-mediasoup-worker\.sh/);
    const setup = readFileSync(join(ROOT, 'scripts/setup.sh'), 'utf8');
    const buildDeps = /# mediasoup worker build[^\n]*\n([^#]*)/.exec(setup)![1]!.split(/\s+/).filter(Boolean);
    expect(buildDeps).toContain('libsrtp2-dev');
    for (const pkg of buildDeps) expect(gateway, `gateway image lacks build dependency ${pkg}`).toMatch(new RegExp(`\\s${pkg}(\\s|\\\\)`));
  });

  it('the lint catches the usual mistakes (not vacuous)', () => {
    const problems = lintDockerfile('FROM node:latest\nRUN apt-get update\nRUN apt-get install -y x\nADD x /y\nCOPY --from=nope a b\nCMD node x\n', ROOT);
    expect(problems).toHaveLength(10); // 9 rules, and COPY's source `a` is not in the context
  });
});

describe('Grafana dashboards', () => {
  it('the committed JSON is what stack/grafana/dashboards.ts generates (node --import tsx stack/grafana/dashboards.ts)', () => {
    for (const d of dashboards()) expect(read(`grafana/dashboards/${d.file}`), d.file).toBe(render(d));
  });

  it('each is provisioned in both stacks, with the datasource uid its panels use', () => {
    const mounted = (services(swarm).get('grafana')!.configs as Array<{ target: string }>).map((c) => c.target);
    for (const d of dashboards()) expect(mounted).toContain(`/var/lib/grafana/dashboards/parley/${d.file}`);
    expect(read('grafana/provisioning/datasources/prometheus.yaml')).toMatch(/uid: parley-prometheus/);
    expect(read('grafana/provisioning/dashboards/parley.yaml')).toMatch(/path: \/var\/lib\/grafana\/dashboards\/parley/);
  });
});

describe('image entry point (stack/docker/entrypoint.sh)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-entrypoint-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads PARLEY_*_FILE secrets, the machine file and the Redis password, then runs the CLI with its arguments', async () => {
    // A stand-in `node` that prints what the real one would receive.
    writeFileSync(join(dir, 'node'), '#!/bin/sh\necho "ARGS=$*"\nenv | grep -E "^(PARLEY_|REDIS_)" | sort\n');
    chmodSync(join(dir, 'node'), 0o755);
    writeFileSync(join(dir, 'auth'), 's3cret-value');
    writeFileSync(join(dir, 'redis'), 'abc123');
    writeFileSync(join(dir, 'machine.env'), '# this machine\nPARLEY_MEDIA_ANNOUNCED_IP=203.0.113.7\n\nNOT_OURS=1\n');
    const { stdout, stderr } = await promisify(execFile)('sh', [join(STACK, 'docker/entrypoint.sh'), 'up', '--json-logs'], {
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        MACHINE_ENV_FILE: join(dir, 'machine.env'),
        PARLEY_AUTH_SECRET_FILE: join(dir, 'auth'),
        REDIS_PASSWORD_FILE: join(dir, 'redis'),
        PARLEY_REDIS_URL: 'redis://127.0.0.1:6379',
      },
    });
    expect(stdout).toContain('ARGS=/app/bin/parley.js up --json-logs');
    expect(stdout).toContain('PARLEY_AUTH_SECRET=s3cret-value');
    expect(stdout).not.toContain('PARLEY_AUTH_SECRET_FILE');
    expect(stdout).toContain('PARLEY_MEDIA_ANNOUNCED_IP=203.0.113.7');
    expect(stdout).toContain('PARLEY_REDIS_URL=redis://:abc123@127.0.0.1:6379');
    expect(stderr).toMatch(/ignoring line .*NOT_OURS/);
  });

  it('puts the Redis password into Sentinel and Cluster connection strings too, never into one that has credentials', async () => {
    const urlFor = async (url: string) => {
      const { stdout } = await promisify(execFile)('sh', [join(STACK, 'docker/entrypoint.sh'), 'up'], {
        env: { PATH: `${dir}:/usr/bin:/bin`, MACHINE_ENV_FILE: join(dir, 'none'), REDIS_PASSWORD_FILE: join(dir, 'redis'), PARLEY_REDIS_URL: url },
      });
      return /^PARLEY_REDIS_URL=(.*)$/m.exec(stdout)?.[1];
    };
    expect(await urlFor('redis-sentinel://r1:26379,r2:26379,r3:26379/parley')).toBe('redis-sentinel://:abc123@r1:26379,r2:26379,r3:26379/parley');
    expect(await urlFor('rediss-cluster://n1:6379,n2:6379')).toBe('rediss-cluster://:abc123@n1:6379,n2:6379');
    expect(await urlFor('redis-sentinel://:other@r1:26379/parley')).toBe('redis-sentinel://:other@r1:26379/parley');
  });

  it('stops with a clear message when a secret file is missing', async () => {
    const run = promisify(execFile)('sh', [join(STACK, 'docker/entrypoint.sh'), 'up'], {
      env: { PATH: `${dir}:/usr/bin:/bin`, MACHINE_ENV_FILE: join(dir, 'none'), PARLEY_AUTH_SECRET_FILE: join(dir, 'missing') },
    });
    await expect(run).rejects.toMatchObject({ code: 64, stderr: expect.stringMatching(/PARLEY_AUTH_SECRET_FILE=.*not readable/) });
  });
});

describe('coturn start script (stack/coturn/coturn-start.sh)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-coturn-start-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('adds the shared secret and the machine addresses to a private copy of turnserver.conf, then runs turnserver', async () => {
    // A stand-in `turnserver` that prints the configuration it is given.
    writeFileSync(join(dir, 'turnserver'), '#!/bin/sh\necho "ARGS=$*"\ncat "$2"\n');
    chmodSync(join(dir, 'turnserver'), 0o755);
    writeFileSync(join(dir, 'turn_secret'), 'shared-turn-secret');
    writeFileSync(join(dir, 'machine.env'), 'PARLEY_MEDIA_ANNOUNCED_IP=203.0.113.7\nTURN_EXTERNAL_IP=203.0.113.7\n');
    const { stdout } = await promisify(execFile)('sh', [join(STACK, 'coturn/coturn-start.sh')], {
      env: {
        PATH: `${dir}:/usr/bin:/bin`,
        TMPDIR: dir,
        TURN_CONFIG: join(STACK, 'coturn/turnserver.conf'),
        TURN_SECRET_FILE: join(dir, 'turn_secret'),
        MACHINE_ENV_FILE: join(dir, 'machine.env'),
        TURN_ALLOWED_PEER_IP: '192.168.1.20',
      },
    });
    expect(stdout).toContain(`ARGS=-c ${join(dir, 'turnserver.conf')}`);
    expect(stdout).toContain(read('coturn/turnserver.conf'));
    expect(stdout).toMatch(/^use-auth-secret$/m);
    expect(stdout).toMatch(/^static-auth-secret=shared-turn-secret$/m);
    expect(stdout).toMatch(/^external-ip=203\.0\.113\.7$/m);
    expect(stdout).toMatch(/^allowed-peer-ip=192\.168\.1\.20$/m);
  });
});
