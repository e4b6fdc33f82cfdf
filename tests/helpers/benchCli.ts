/** The bench CLI (`tsx bench/cli.ts ...`) as a child process from the repository root, for the smoke tests. */
import { spawn } from 'node:child_process';

export const ROOT = new URL('../..', import.meta.url).pathname;

export type Run = { code: number | null; stdout: string; stderr: string };

/** Runs the CLI with `args` (and `env` on top of ours); SIGINT and a rejection past `timeoutMs`. */
export function runBenchCli(args: string[], env: Record<string, string> = {}, timeoutMs = 240_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/cli.ts', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGINT');
      reject(new Error(`bench ${args.join(' ')} did not finish in ${timeoutMs} ms:\n${stderr.slice(-4000)}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
