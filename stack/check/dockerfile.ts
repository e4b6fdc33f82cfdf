/**
 * A small Dockerfile lint, used because hadolint is neither in Debian nor on
 * npm here. Each rule returns a readable problem; an empty list means clean.
 *
 *  - every FROM names a previous stage or an image with an explicit tag that is
 *    not `latest` (ARG defaults are substituted; an ARG used in FROM needs one);
 *  - stage names are unique and every COPY --from names an earlier stage;
 *  - the final stage switches to a non-root USER and has a HEALTHCHECK;
 *  - `apt-get install` runs with -y and --no-install-recommends, in the same RUN
 *    as `apt-get update` and the removal of /var/lib/apt/lists/*;
 *  - no ADD (COPY says what it does; no remote URLs);
 *  - ENTRYPOINT and CMD in exec (JSON array) form, so signals reach the process;
 *  - every COPY source outside --from exists in the build context.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export type Instruction = { line: number; keyword: string; args: string };

/** Instructions with continuation lines joined and comments dropped. */
export function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i]!;
    if (/^\s*(#|$)/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      line = line.replace(/\\\s*$/, ' ');
      i++;
      if (!/^\s*#/.test(lines[i]!)) line += lines[i]!;
    }
    const m = /^\s*(\w+)\s+(.*)$/s.exec(line);
    if (m) out.push({ line: start + 1, keyword: m[1]!.toUpperCase(), args: m[2]!.replace(/\s+/g, ' ').trim() });
  }
  return out;
}

function substitute(value: string, args: Map<string, string | undefined>): string {
  return value.replace(/\$\{?(\w+)\}?/g, (whole, name: string) => args.get(name) ?? whole);
}

function isExecForm(args: string): boolean {
  try {
    return Array.isArray(JSON.parse(args));
  } catch {
    return false;
  }
}

/** Problems found in one Dockerfile; `context` is the build context directory (for COPY sources). */
export function lintDockerfile(text: string, context: string): string[] {
  const problems: string[] = [];
  const at = (ins: Instruction, msg: string) => problems.push(`line ${ins.line} (${ins.keyword}): ${msg}`);
  const globalArgs = new Map<string, string | undefined>();
  const stages: string[] = [];
  let final: { user?: string; healthcheck: boolean } = { healthcheck: false };
  for (const ins of parseDockerfile(text)) {
    switch (ins.keyword) {
      case 'ARG': {
        if (stages.length > 0) break;
        const [name, def] = ins.args.split('=', 2) as [string, string | undefined];
        globalArgs.set(name, def?.replace(/^"|"$/g, ''));
        break;
      }
      case 'FROM': {
        const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
        if (!m) {
          at(ins, `cannot read "${ins.args}"`);
          break;
        }
        const image = substitute(m[1]!, globalArgs);
        if (/\$/.test(image)) at(ins, `${m[1]} uses an ARG without a default`);
        else if (!stages.includes(image)) {
          const tag = /:([^/:@]+)$/.exec(image)?.[1];
          if (!tag && !image.includes('@sha256:')) at(ins, `${image} has no tag (pin one)`);
          if (tag === 'latest') at(ins, `${image}: do not use latest`);
        }
        if (m[2]) {
          if (stages.includes(m[2])) at(ins, `stage name ${m[2]} used twice`);
          stages.push(m[2]);
        } else stages.push(`#${stages.length}`);
        final = { healthcheck: false };
        break;
      }
      case 'USER':
        final.user = ins.args;
        break;
      case 'HEALTHCHECK':
        final.healthcheck = !/^NONE$/i.test(ins.args);
        break;
      case 'ADD':
        at(ins, 'use COPY (ADD fetches URLs and unpacks archives implicitly)');
        break;
      case 'ENTRYPOINT':
      case 'CMD':
        if (!isExecForm(ins.args)) at(ins, 'use the exec (JSON array) form so signals reach the process');
        break;
      case 'RUN': {
        const run = ins.args;
        if (/apt-get (\S+ )*install/.test(run)) {
          if (!/--no-install-recommends/.test(run)) at(ins, 'apt-get install without --no-install-recommends');
          if (!/install[^&;|]*\s-y\b|\s-y\s[^&;|]*install|--yes/.test(run)) at(ins, 'apt-get install without -y');
          if (!/apt-get update/.test(run)) at(ins, 'apt-get install without apt-get update in the same RUN (stale package lists)');
          if (!/rm -rf \/var\/lib\/apt\/lists/.test(run)) at(ins, 'apt-get install without removing /var/lib/apt/lists/* in the same RUN');
        } else if (/apt-get update/.test(run)) at(ins, 'apt-get update alone in a RUN (cached layer, stale lists later)');
        if (/\bapt\s+install\b/.test(run)) at(ins, 'use apt-get, not apt, in scripts');
        break;
      }
      case 'COPY': {
        const parts = ins.args.split(' ');
        const flags = parts.filter((p) => p.startsWith('--'));
        const paths = parts.filter((p) => !p.startsWith('--'));
        const from = flags.find((f) => f.startsWith('--from='))?.slice('--from='.length);
        if (from !== undefined) {
          if (!stages.slice(0, -1).includes(from)) at(ins, `--from=${from} names no earlier stage`);
          break;
        }
        for (const src of paths.slice(0, -1)) if (!existsSync(join(context, src))) at(ins, `source ${src} not found in the build context`);
        break;
      }
      default:
        break;
    }
  }
  if (stages.length === 0) problems.push('no FROM');
  if (!final.user || /^(root|0)(:|$)/.test(final.user)) problems.push('final stage runs as root (add USER <non-root>)');
  if (!final.healthcheck) problems.push('final stage has no HEALTHCHECK');
  return problems;
}

/**
 * COPY sources (outside --from) that the Dockerfile's own .dockerignore keeps out
 * of the context. The ignore files here exclude everything (`*`) and re-include
 * paths with `!path`, so a source must be re-included by one of those lines.
 */
export function copySourcesIgnored(dockerfile: string, dockerignore: string): string[] {
  const lines = dockerignore.split('\n').map((l) => l.trim());
  if (!lines.includes('*')) return [];
  const allowed = lines.filter((l) => l.startsWith('!')).map((l) => l.slice(1).replace(/\/$/, ''));
  const out: string[] = [];
  for (const ins of parseDockerfile(dockerfile)) {
    if (ins.keyword !== 'COPY' || /--from=/.test(ins.args)) continue;
    const paths = ins.args.split(' ').filter((p) => !p.startsWith('--'));
    for (const src of paths.slice(0, -1)) {
      const path = src.replace(/\/$/, '');
      if (!allowed.some((a) => path === a || path.startsWith(`${a}/`))) out.push(`line ${ins.line}: ${src} is excluded by the .dockerignore`);
    }
  }
  return out;
}
