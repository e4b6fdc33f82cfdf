/**
 * The machine a run came from, written into every results file: CPU, cores,
 * memory, OS, load average, and the versions of what the figures depend on
 * (Node, mediasoup, Chromium, Redis, the Debian engine packages, the git commit).
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

export type MachineDescription = {
  hostname: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  versions: Record<string, string>;
  gitCommit: string;
  /** 1, 5 and 15 minute load averages. */
  loadAverage: number[];
};

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** stdout of a command, trimmed, or null when it fails or takes over 5 s. */
function run(cmd: string, args: string[]): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 5000, cwd: ROOT }, (err, stdout) => resolve(err ? null : stdout.trim()));
  });
}

async function packageVersion(name: string): Promise<string | null> {
  try {
    return (JSON.parse(await readFile(`${ROOT}node_modules/${name}/package.json`, 'utf8')) as { version: string }).version;
  } catch {
    return null;
  }
}

/** Debian packages whose versions matter to the figures (engines, servers). */
const DEBIAN_PACKAGES = ['pocketsphinx', 'pocketsphinx-en-us', 'python3-pocketsphinx', 'apertium', 'apertium-eng-spa', 'espeak-ng', 'redis-server', 'chromium', 'janus'];

export async function describeMachine(): Promise<MachineDescription> {
  const cpus = os.cpus();
  const [chromium, redis, dpkg, commit, dirty] = await Promise.all([
    run('chromium', ['--version']),
    run('redis-server', ['--version']),
    run('dpkg-query', ['-W', '-f', '${Package} ${Version}\\n', ...DEBIAN_PACKAGES]),
    run('git', ['rev-parse', '--short', 'HEAD']),
    run('git', ['status', '--porcelain', '--untracked-files=no', '--', 'src']),
  ]);
  const versions: Record<string, string> = { node: process.version };
  for (const name of ['mediasoup', 'mediasoup-client', 'bullmq', 'playwright-core', 'werift']) {
    const v = await packageVersion(name);
    if (v) versions[name] = v;
  }
  if (chromium) versions['chromium (binary)'] = chromium;
  if (redis) versions['redis-server (binary)'] = redis.split(' ').slice(0, 3).join(' ');
  for (const line of (dpkg ?? '').split('\n')) {
    const [pkg, version] = line.split(' ');
    if (pkg && version) versions[`deb:${pkg}`] = version;
  }
  return {
    hostname: os.hostname(),
    cpuModel: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    os: `${os.type()} ${os.release()} (${os.platform()}/${os.arch()})`,
    versions,
    gitCommit: commit ? `${commit}${dirty ? ' (src modified)' : ''}` : 'unknown',
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

/** One line for reports: "Intel(R) Xeon(R) ... , 2 cores, 23.5 GiB, Linux 6.1 (linux/x64)". */
export function machineLine(m: MachineDescription): string {
  return `${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.os}`;
}
