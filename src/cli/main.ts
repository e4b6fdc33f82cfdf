import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load.js';
import { createLogger } from '../logger.js';
import { AI_WORKER_USAGE, runAiWorker } from './aiWorker.js';
import { CLUSTER_USAGE, runCluster } from './cluster.js';
import { MODELS_USAGE, runModels } from './models.js';
import { runUp } from './up.js';

/** `ownHelp`: the command prints its own help (per subcommand), so `--help` is passed to it. */
type Command = { summary: string; usage: string; run: (args: string[]) => Promise<number>; ownHelp?: boolean };

const COMMANDS: Record<string, Command> = {
  up: {
    summary: 'Start a gateway replica (with an embedded Redis unless --redis-url is given) and serve the web client',
    usage: `parley up [options]

  -p, --port <n>         HTTP/WebSocket port (default 8080; 0 = any free port)
  -c, --config <file>    YAML config file (see parley.sample.yaml); also PARLEY_CONFIG
      --redis-url <url>  Use this Redis instead of starting an embedded redis-server
      --workers <n>      mediasoup workers (default: one per CPU core)
      --rtc-port <n>     First WebRtcServer port; worker i uses <n>+i for UDP and TCP (default 40000)
      --replica-id <id>  Stable replica id (default <hostname>-<port>)
      --log-level <lvl>  trace|debug|info|warn|error (default info)
      --json-logs        Log JSON lines instead of pretty text
      --ai-workers <n>   AI worker processes to start beside the gateway (default 1; 0 = none)
  -h, --help             Show this help

Every config key can also be set from the environment: media.rtcBasePort -> PARLEY_MEDIA_RTC_BASE_PORT.`,
    run: runUpCommand,
  },
  cluster: {
    summary: 'Start Redis and N gateway replicas on this machine, sharing rooms (a local cluster)',
    usage: CLUSTER_USAGE,
    run: runCluster,
  },
  'ai-worker': {
    summary: 'Run an AI worker: speech recognition, translation and speech synthesis jobs from the gateways\' Redis',
    usage: AI_WORKER_USAGE,
    run: runAiWorker,
  },
  bench: {
    summary: 'Measure latency, capacity and failover, here or against a deployment (--target); compare runs',
    usage: 'parley bench --help',
    run: runBench,
    ownHelp: true,
  },
  models: {
    summary: 'List, download and verify production models (offline engines need none)',
    usage: MODELS_USAGE,
    run: (args) => runModels(args),
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Parley: real-time translated calls.

Usage: parley <command> [options]

Commands:
${lines.join('\n')}

Run "parley <command> --help" for a command's options.`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    console.log(usage());
    return name ? 0 : 1;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`parley: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (!command.ownHelp && (rest.includes('-h') || rest.includes('--help'))) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    console.error(`parley ${name}: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}

async function runUpCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string', short: 'p' },
      config: { type: 'string', short: 'c' },
      'redis-url': { type: 'string' },
      workers: { type: 'string' },
      'rtc-port': { type: 'string' },
      'replica-id': { type: 'string' },
      'log-level': { type: 'string' },
      'json-logs': { type: 'boolean' },
      'ai-workers': { type: 'string' },
    },
    strict: true,
  });
  const overrides: Record<string, Record<string, unknown>> = {};
  const set = (section: string, key: string, value: unknown) => ((overrides[section] ??= {})[key] = value);
  if (values.port !== undefined) set('http', 'port', Number(values.port));
  if (values['redis-url'] !== undefined) set('redis', 'url', values['redis-url']);
  if (values.workers !== undefined) set('media', 'workers', Number(values.workers));
  if (values['rtc-port'] !== undefined) set('media', 'rtcBasePort', Number(values['rtc-port']));
  if (values['replica-id'] !== undefined) set('replica', 'id', values['replica-id']);
  if (values['log-level'] !== undefined) set('log', 'level', values['log-level']);
  // Pretty logs for a person at a terminal, JSON lines otherwise (unless configured).
  if (values['json-logs']) set('log', 'pretty', false);
  else if (process.stdout.isTTY && process.env.PARLEY_LOG_PRETTY === undefined) set('log', 'pretty', true);
  const config = loadConfig({ file: values.config, overrides });
  const log = createLogger({ level: config.log.level, pretty: config.log.pretty });
  const aiWorkers = values['ai-workers'] === undefined ? 1 : Number(values['ai-workers']);
  if (!Number.isInteger(aiWorkers) || aiWorkers < 0 || aiWorkers > 16) throw new TypeError(`--ai-workers must be 0..16, got "${values['ai-workers']}"`);
  return runUp(config, log, { aiWorkers: config.ai.enabled ? aiWorkers : 0, configFile: values.config });
}

/** The bench lives beside the sources (bench/); an install without it says so. */
async function runBench(args: string[]): Promise<number> {
  const entry = new URL('../../bench/lib/cli/index.ts', import.meta.url);
  let bench: { benchMain: (argv: string[], prog: string) => Promise<number> };
  try {
    bench = (await import(entry.href)) as typeof bench;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw err;
    const missing = String((err as { url?: string }).url ?? (err as Error).message);
    if (missing.includes('bench/lib/cli/index.ts')) console.error('parley bench: the bench is not part of this install (bench/ is in the source repository; run it from a clone)');
    else console.error(`parley bench: a development dependency is missing (${(err as Error).message.split('\n')[0]}); run ./parley setup --test`);
    return 2;
  }
  return bench.benchMain(args, 'parley bench');
}
