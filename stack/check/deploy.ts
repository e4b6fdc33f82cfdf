/**
 * Deployment rules of the stack files beyond references: host ports that do
 * not collide on one machine (compose), and for Swarm the placement of
 * host-network services, rolling update/rollback with health checks, and
 * Traefik v3 labels (swarm provider, camelCase header options, middlewares
 * that exist).
 */
import { parse } from 'yaml';
import { environment, services, type StackFile } from './stackfile.js';

type Json = Record<string, unknown>;
const asObject = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});

export type PortUse = { service: string; proto: 'tcp' | 'udp'; from: number; to: number; what: string };

/**
 * Ports services take on one machine: published ports, and for host-network
 * gateways and coturn their own (Swarm: the worst case, every service on one machine).
 */
export function hostPorts(stack: StackFile, turnserverConf: string): PortUse[] {
  const out: PortUse[] = [];
  const add = (service: string, proto: 'tcp' | 'udp', from: number, to: number, what: string) => out.push({ service, proto, from, to, what });
  // Swarm: services attached to the external network named "host".
  const hostNetworks = new Set(Object.entries(asObject(stack.doc.networks)).filter(([, n]) => asObject(n).name === 'host').map(([k]) => k));
  for (const [name, svc] of services(stack)) {
    for (const p of Array.isArray(svc.ports) ? svc.ports : []) {
      if (typeof p === 'string') {
        const m = /^(?:[\d.]+:)?(\d+)(?:-(\d+))?:\d+(?:-\d+)?(?:\/(tcp|udp))?$/.exec(p);
        if (m) add(name, (m[3] as 'tcp' | 'udp') ?? 'tcp', Number(m[1]), Number(m[2] ?? m[1]), `published ${p}`);
      } else {
        const o = asObject(p);
        add(name, (o.protocol as 'tcp' | 'udp') ?? 'tcp', Number(o.published), Number(o.published), `published ${String(o.published)}`);
      }
    }
    const networks = Array.isArray(svc.networks) ? svc.networks.map(String) : Object.keys(asObject(svc.networks));
    if (svc.network_mode !== 'host' && !networks.some((n) => hostNetworks.has(n))) continue;
    const env = environment(svc);
    if (env.has('PARLEY_HTTP_PORT')) {
      const http = Number(env.get('PARLEY_HTTP_PORT'));
      const rtc = Number(env.get('PARLEY_MEDIA_RTC_BASE_PORT') ?? 40000);
      const workers = Number(env.get('PARLEY_MEDIA_WORKERS') ?? 0);
      if (workers < 1) add(name, 'udp', rtc, rtc + 63, 'rtc ports (media.workers=0 means one per core: set it so ranges can be checked)');
      add(name, 'tcp', http, http, 'http.port');
      add(name, 'udp', rtc, rtc + Math.max(workers, 1) - 1, 'WebRtcServer ports');
      add(name, 'tcp', rtc, rtc + Math.max(workers, 1) - 1, 'WebRtcServer ports');
      add(name, 'udp', Number(env.get('PARLEY_MEDIA_PIPE_PORT_MIN') ?? 41000), Number(env.get('PARLEY_MEDIA_PIPE_PORT_MAX') ?? 41999), 'pipe range');
    } else if (/^redis:/.test(String(svc.image))) {
      if (env.has('REDIS_PORT')) add(name, 'tcp', Number(env.get('REDIS_PORT')), Number(env.get('REDIS_PORT')), 'Redis');
      if (env.has('SENTINEL_PORT')) add(name, 'tcp', Number(env.get('SENTINEL_PORT')), Number(env.get('SENTINEL_PORT')), 'Redis Sentinel');
    } else if (/coturn/.test(String(svc.image))) {
      const conf = (key: string, def: number) => Number(new RegExp(`^${key}=(\\d+)`, 'm').exec(turnserverConf)?.[1] ?? def);
      for (const proto of ['udp', 'tcp'] as const) add(name, proto, conf('listening-port', 3478), conf('listening-port', 3478), 'TURN');
      add(name, 'tcp', conf('tls-listening-port', 5349), conf('tls-listening-port', 5349), 'TURN over TLS');
      add(name, 'udp', conf('min-port', 49152), conf('max-port', 65535), 'TURN relay range');
    }
  }
  return out;
}

/** Pairs of port uses by different services that overlap. */
export function portCollisions(ports: PortUse[]): string[] {
  const problems: string[] = [];
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      const [a, b] = [ports[i]!, ports[j]!];
      if (a.service === b.service || a.proto !== b.proto || a.to < b.from || b.to < a.from) continue;
      problems.push(`${a.service} (${a.what} ${a.from}-${a.to}/${a.proto}) overlaps ${b.service} (${b.what} ${b.from}-${b.to}/${b.proto})`);
    }
  }
  return problems;
}

/** Host-network services run once per machine; every service rolls back a failed update; `rolling` ones also need health checks, a rollback config and a drain period. */
export function checkSwarmDeploy(stack: StackFile, rolling: string[], imageHealthchecks: Set<string>): string[] {
  const problems: string[] = [];
  const hostNetworks = new Set(Object.entries(asObject(stack.doc.networks)).filter(([, n]) => asObject(n).name === 'host').map(([k]) => k));
  for (const [name, svc] of services(stack)) {
    const deploy = asObject(svc.deploy);
    const networks = Array.isArray(svc.networks) ? svc.networks.map(String) : Object.keys(asObject(svc.networks));
    if (svc.network_mode !== undefined) problems.push(`service ${name}: network_mode is ignored by docker stack deploy; attach to the external "host" network`);
    if (svc.build !== undefined) problems.push(`service ${name}: build is ignored by docker stack deploy`);
    if (svc.labels !== undefined && Object.keys(asObject(svc.labels)).concat(Array.isArray(svc.labels) ? svc.labels : []).some((l) => String(l).startsWith('traefik.'))) {
      problems.push(`service ${name}: Traefik labels must be under deploy.labels in Swarm (container labels are not read)`);
    }
    if (deploy.replicas !== 0 && asObject(deploy.update_config).failure_action !== 'rollback') {
      problems.push(`service ${name}: update_config.failure_action should be rollback (a failed update goes back by itself)`);
    }
    if (networks.some((n) => hostNetworks.has(n))) {
      if (deploy.mode !== 'global') problems.push(`service ${name}: on the host network but not mode: global (two replicas on one machine would fight for its ports)`);
      if (!(asObject(deploy.placement).constraints as unknown[] | undefined)?.length) problems.push(`service ${name}: on the host network without a placement constraint`);
    }
  }
  for (const name of rolling) {
    const svc = services(stack).get(name);
    if (!svc) {
      problems.push(`service ${name} missing`);
      continue;
    }
    const deploy = asObject(svc.deploy);
    const update = asObject(deploy.update_config);
    if (update.failure_action !== 'rollback') problems.push(`service ${name}: update_config.failure_action must be rollback`);
    if (!update.monitor) problems.push(`service ${name}: update_config.monitor unset (how long a new task must stay healthy)`);
    if (!deploy.rollback_config) problems.push(`service ${name}: no rollback_config`);
    const health = asObject(svc.healthcheck);
    if (!(Array.isArray(health.test) && health.test.length) && !imageHealthchecks.has(name)) problems.push(`service ${name}: no health check (service or image)`);
    if (!svc.stop_grace_period) problems.push(`service ${name}: no stop_grace_period (time to drain on SIGTERM)`);
  }
  return problems;
}

/** Header middleware options of Traefik v3, in the camelCase its label parser maps to fields. */
export const TRAEFIK_HEADER_OPTIONS = new Set([
  'customRequestHeaders', 'customResponseHeaders', 'accessControlAllowCredentials', 'accessControlAllowHeaders',
  'accessControlAllowMethods', 'accessControlAllowOriginList', 'accessControlAllowOriginListRegex', 'accessControlExposeHeaders',
  'accessControlMaxAge', 'addVaryHeader', 'allowedHosts', 'hostsProxyHeaders', 'sslProxyHeaders', 'stsSeconds',
  'stsIncludeSubdomains', 'stsPreload', 'forceSTSHeader', 'frameDeny', 'customFrameOptionsValue', 'contentTypeNosniff',
  'browserXssFilter', 'customBrowserXSSValue', 'contentSecurityPolicy', 'contentSecurityPolicyReportOnly', 'publicKey',
  'referrerPolicy', 'permissionsPolicy', 'isDevelopment',
]);

/** Traefik v3 on Swarm: labels, middlewares defined before use, static config on the swarm provider. */
export function checkTraefik(stack: StackFile, staticConfig: string, dynamicConfig: string): string[] {
  const problems: string[] = [];
  const labels: Array<[string, string, string]> = [];
  for (const [name, svc] of services(stack)) {
    const list = asObject(svc.deploy).labels;
    const entries = Array.isArray(list) ? list.map((l) => String(l).split('=', 2) as [string, string]) : Object.entries(asObject(list)).map(([k, v]) => [k, String(v)] as [string, string]);
    for (const [k, v] of entries) if (k.startsWith('traefik.')) labels.push([name, k, v ?? '']);
  }
  const middlewares = new Set<string>();
  for (const [svc, key] of labels) {
    if (/^traefik\.docker\./.test(key)) problems.push(`service ${svc}: ${key}: Traefik v3 reads traefik.swarm.* for Swarm services`);
    const m = /^traefik\.http\.middlewares\.([\w-]+)\.(\w+)\.(\w+)/.exec(key);
    if (!m) continue;
    middlewares.add(m[1]!);
    if (m[2] === 'headers' && !TRAEFIK_HEADER_OPTIONS.has(m[3]!)) problems.push(`service ${svc}: ${key}: "${m[3]}" is not a Traefik v3 headers option (camelCase, e.g. stsSeconds)`);
  }
  const refs: Array<[string, string]> = [];
  for (const [svc, key, value] of labels) {
    if (/^traefik\.http\.routers\.[\w-]+\.middlewares$/.test(key)) for (const mw of value.split(',')) refs.push([`service ${svc}`, mw.trim()]);
  }
  const dynamic = asObject(asObject(parse(dynamicConfig)).http);
  for (const [router, def] of Object.entries(asObject(dynamic.routers))) {
    for (const mw of (asObject(def).middlewares as string[] | undefined) ?? []) refs.push([`gateways.yml router ${router}`, mw]);
    const service = String(asObject(def).service);
    if (!asObject(dynamic.services)[service]) problems.push(`gateways.yml router ${router}: service ${service} is not defined`);
  }
  for (const [where, mw] of refs) {
    const [mwName, provider] = mw.split('@') as [string, string | undefined];
    if ((provider === undefined || provider === 'swarm') && !middlewares.has(mwName)) problems.push(`${where}: middleware ${mw} is defined by no deploy label`);
  }
  const st = asObject(parse(staticConfig));
  const providers = asObject(st.providers);
  if (!providers.swarm) problems.push('traefik.yml: providers.swarm missing (Traefik v3 Swarm provider)');
  if (asObject(providers.docker).swarmMode !== undefined) problems.push('traefik.yml: providers.docker.swarmMode is Traefik v2; use providers.swarm');
  const network = String(asObject(providers.swarm).network ?? '');
  const declared = Object.values(asObject(stack.doc.networks)).map((n) => String(asObject(n).name ?? ''));
  if (!declared.includes(network)) problems.push(`traefik.yml: providers.swarm.network ${network} is not a network of the stack (set its name:)`);
  return problems;
}
