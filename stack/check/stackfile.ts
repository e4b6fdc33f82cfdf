/**
 * Structural check of a Compose or Swarm stack file, without a Docker engine:
 * what every service references exists, images are pinned or built here, and
 * the PARLEY_* variables are real configuration keys. Each rule returns a
 * readable problem; an empty list means clean.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { parse } from 'yaml';

type Json = Record<string, unknown>;
export type StackFile = { path: string; doc: Json };

export function readStack(path: string): StackFile {
  // merge: Compose files share settings through YAML merge keys (`<<: *gateway`).
  return { path, doc: parse(readFileSync(path, 'utf8'), { merge: true }) as Json };
}

const asObject = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
/** Short or long syntax entries (`- name` / `- source: name`) to names. */
const refNames = (list: unknown, key = 'source'): string[] =>
  (Array.isArray(list) ? list : Object.keys(asObject(list))).map((e) => (typeof e === 'string' ? e : String(asObject(e)[key])));

/** `${VAR:-default}` / `${VAR:?message}` -> the default (or the variable's name when it has none). */
export function interpolate(value: string): string {
  return value.replace(/\$\{(\w+)(?::?[-?]([^}]*))?\}/g, (_m, name: string, def?: string) => (def !== undefined && !/^set /.test(def) ? def : name));
}

export function services(stack: StackFile): Map<string, Json> {
  return new Map(Object.entries(asObject(stack.doc.services)).map(([k, v]) => [k, asObject(v)]));
}

export function environment(service: Json): Map<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) return new Map(env.map((e) => String(e).split('=', 2) as [string, string]));
  return new Map(Object.entries(asObject(env)).map(([k, v]) => [k, String(v)]));
}

/** Every reference a service makes (networks, secrets, configs, named volumes) resolves to a top-level entry. */
export function checkReferences(stack: StackFile): string[] {
  const problems: string[] = [];
  const top = (key: string) => new Set(Object.keys(asObject(stack.doc[key])));
  const declared = { networks: top('networks'), secrets: top('secrets'), configs: top('configs'), volumes: top('volumes') };
  const used = { networks: new Set<string>(), secrets: new Set<string>(), configs: new Set<string>(), volumes: new Set<string>() };
  for (const [name, svc] of services(stack)) {
    const check = (kind: keyof typeof declared, refs: string[]) => {
      for (const ref of refs) {
        used[kind].add(ref);
        if (!declared[kind].has(ref)) problems.push(`service ${name}: ${kind.slice(0, -1)} "${ref}" is not declared under top-level ${kind}`);
      }
    };
    check('networks', refNames(svc.networks));
    check('secrets', refNames(svc.secrets));
    check('configs', refNames(svc.configs));
    const volumes = (Array.isArray(svc.volumes) ? svc.volumes : []).map((v) => {
      if (typeof v === 'string') return v.split(':')[0]!;
      const o = asObject(v);
      return o.type === 'volume' || o.type === undefined ? String(o.source) : '';
    });
    check('volumes', volumes.filter((v) => v && !v.startsWith('.') && !v.startsWith('/') && !v.startsWith('~')));
    if (svc.network_mode !== undefined && svc.networks !== undefined) problems.push(`service ${name}: network_mode and networks together`);
    if (!svc.image && !svc.build) problems.push(`service ${name}: no image`);
  }
  for (const kind of ['networks', 'secrets', 'configs', 'volumes'] as const) {
    for (const d of declared[kind]) if (!used[kind].has(d)) problems.push(`top-level ${kind}.${d} is used by no service`);
  }
  return problems;
}

/** Files named by configs/secrets (`file:`), bind mounts and build contexts exist relative to the stack file. */
export function checkFiles(stack: StackFile): string[] {
  const problems: string[] = [];
  const base = dirname(stack.path);
  for (const kind of ['configs', 'secrets'] as const) {
    for (const [name, entry] of Object.entries(asObject(stack.doc[kind]))) {
      const e = asObject(entry);
      if (typeof e.file !== 'string') continue;
      if (kind === 'configs' && !existsSync(resolve(base, e.file))) problems.push(`${kind}.${name}: file ${e.file} not found`);
    }
  }
  for (const [name, svc] of services(stack)) {
    for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
      const source = typeof v === 'string' ? v.split(':')[0]! : String(asObject(v).source);
      if (source.startsWith('.') && !existsSync(resolve(base, source))) problems.push(`service ${name}: bind source ${source} not found`);
    }
    const build = asObject(svc.build);
    if (build.dockerfile !== undefined) {
      const context = resolve(base, String(build.context ?? '.'));
      if (!existsSync(join(context, String(build.dockerfile)))) problems.push(`service ${name}: Dockerfile ${String(build.dockerfile)} not found in ${context}`);
    }
  }
  return problems;
}

/** Secrets never sit in the file: no literal value for a secret-like variable, compose secrets are git-ignored files, swarm ones external. */
export function checkSecrets(stack: StackFile, kind: 'compose' | 'swarm'): string[] {
  const problems: string[] = [];
  for (const [name, svc] of services(stack)) {
    for (const [key, value] of environment(svc)) {
      if (/(SECRET|PASSWORD|TOKEN)(?!_FILE)/.test(key) && !/_FILE$|__FILE$/.test(key) && value !== '') {
        problems.push(`service ${name}: ${key} holds a value; pass a secret file (${key}_FILE) instead`);
      }
    }
  }
  for (const [name, entry] of Object.entries(asObject(stack.doc.secrets))) {
    const e = asObject(entry);
    if (kind === 'swarm' && e.external !== true) problems.push(`secrets.${name}: must be external in a Swarm stack (created with docker secret create)`);
    if (kind === 'compose') {
      const file = String(e.file ?? '');
      if (!file.startsWith('./secrets/')) problems.push(`secrets.${name}: file ${file} must live in stack/secrets/ (git-ignored)`);
    }
  }
  return problems;
}

/** Images: ours are parley/<name> matching a Dockerfile that documents that tag; others carry a pinned tag. */
export function checkImages(stack: StackFile, dockerfiles: Map<string, string>): string[] {
  const problems: string[] = [];
  for (const [name, svc] of services(stack)) {
    const image = interpolate(String(svc.image ?? ''));
    const repo = image.replace(/:[^/:]+$/, '');
    const tag = image.slice(repo.length + 1);
    if (!tag || tag === 'latest') problems.push(`service ${name}: image ${image} needs a pinned tag`);
    const ours = /^parley\/([\w-]+)$/.exec(repo);
    if (!ours) continue;
    const dockerfile = dockerfiles.get(ours[1]!);
    if (!dockerfile) problems.push(`service ${name}: no Dockerfile builds ${repo}`);
    else if (!dockerfile.includes(`-t ${repo}:`)) problems.push(`service ${name}: the Dockerfile for ${repo} does not document that tag`);
    const build = asObject(svc.build);
    if (build.dockerfile !== undefined && !String(build.dockerfile).endsWith(`${ours[1]}.Dockerfile`)) {
      problems.push(`service ${name}: image ${repo} built from ${String(build.dockerfile)}`);
    }
  }
  return problems;
}

/** PARLEY_* variables name configuration keys (or <key>_FILE for the entry point's secret files). */
export function checkParleyEnv(stack: StackFile, knownEnv: Set<string>): string[] {
  const problems: string[] = [];
  for (const [name, svc] of services(stack)) {
    for (const key of environment(svc).keys()) {
      if (!key.startsWith('PARLEY_')) continue;
      const base = key.replace(/_FILE$/, '');
      if (!knownEnv.has(base)) problems.push(`service ${name}: ${key} is not a configuration variable (see src/config/schema.ts)`);
    }
  }
  return problems;
}
