/**
 * The contract between the bench CLI and its scenarios. One scenario per file in
 * bench/scenarios/, each exporting `scenario: Scenario`; the CLI finds them by
 * listing that folder, so adding a scenario never edits a shared registry.
 */

/** A command-line option of a scenario (`--<name> <value>`). */
export type OptionSpec = {
  name: string;
  type: 'number' | 'string' | 'boolean' | 'list';
  /** Value for a normal run. */
  default: number | string | boolean | Array<number | string>;
  /** Value used by `--smoke` (tiny and fast) when the user did not set the option. */
  smoke?: number | string | boolean | Array<number | string>;
  help: string;
};

export type OptionValues = Record<string, number | string | boolean | Array<number | string>>;

/** A line or scatter series for a plot; x and y in the units the plot names. */
export type Series = { name: string; points: Array<[number, number]> };

export type PlotSpec = {
  /** File name stem: the plot is written as <results>/<scenario>-<timestamp>-<id>.svg */
  id: string;
  title: string;
  kind: 'line' | 'scatter' | 'bar';
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (an SLO target, a published figure). */
  marks?: Array<{ label: string; y: number }>;
  /**
   * Bar plots: the name of each position on the x axis; a point's x is its index in this list.
   * Without it the x values themselves are the categories (repeat 1, 2, 3...).
   */
  categories?: string[];
  /** 'log' where figures span decades; left out, the renderer picks log when positive values span 2+ decades. */
  yScale?: 'linear' | 'log';
};

/** One row of the summary table; the CLI prints rows as a table and writes them to the report. */
export type SummaryRow = Record<string, string | number>;

export type ScenarioResult = {
  /** The summary table (also the Markdown report's table). */
  summary: SummaryRow[];
  /**
   * Named figures that SLOs in bench/slo.yaml refer to, e.g.
   * 'e2e_p50_ms', 'processing_p95_ms'. Missing figure = SLO reported as "no data".
   */
  figures: Record<string, number>;
  /** Raw samples, written as is into the results JSON. */
  samples: unknown;
  plots: PlotSpec[];
  /** Caveats and observations, printed and added to the report (noisy neighbour, warm-up excluded, ...). */
  notes: string[];
  /** Optional: what the run used besides the machine (engine set, replicas, config); goes into the JSON and the report. */
  environment?: ScenarioEnvironment;
  /**
   * Optional: a variant of the scenario whose results must not replace the plain run's (e.g. capacity's
   * 'video'): files are named `<scenario>-<variant>-<time>` and the latest copies `<scenario>-<variant>`.
   */
  variant?: string;
};

export type RunContext = {
  smoke: boolean;
  /** Progress of the current phase; the CLI draws a bar on stderr (plain lines when not a TTY). */
  progress(done: number, total: number, label: string): void;
  /** A line of narration (stderr), kept out of the summary. */
  log(message: string): void;
  /** Register cleanup (stop children, close browsers); run in reverse order even when the scenario throws or on Ctrl-C. */
  defer(cleanup: () => Promise<void> | void): void;
  signal: AbortSignal;
  /** Absolute path of bench/results. */
  resultsDir: string;
  /** `--target`: an existing deployment to measure instead of starting gateways here; null = start our own. */
  target: RemoteTarget | null;
};

/**
 * A deployment the bench measures from outside (`parley bench <scenario> --target <url>`): the
 * client side of the scenario runs here, against gateways it did not start.
 */
export type RemoteTarget = {
  /** The gateways' base URLs (http/https), one per replica the operator names; the first is the default. */
  urls: string[];
  /** How join tokens are minted: with the deployment's auth.secret, or from a token endpoint. */
  tokens: { kind: 'secret'; secret: string; issuer: string } | { kind: 'endpoint'; url: string };
  /** Bearer token for the gateways' /metrics (engine-internal figures); null = not read. */
  metricsToken: string | null;
  /** Shell command that stops one replica (failover), `{url}` and `{index}` replaced; null = not allowed. */
  stopCommand: string | null;
  /** Bounds on the traffic the bench sends to a deployment it does not own. */
  limits: { maxClients: number; maxSeconds: number };
};

export type Scenario = {
  name: string;
  /** One line for `--help`. */
  title: string;
  /** What is measured, where the clock starts and stops (shown by `<scenario> --help`). */
  description: string;
  options: OptionSpec[];
  run(ctx: RunContext, options: OptionValues): Promise<ScenarioResult>;
  /**
   * Whether the scenario runs against a `--target` deployment, and what it cannot measure from
   * outside (printed and noted in the report). Left out = the scenario needs to start its own parts.
   */
  remote?: { unavailable: string[] };
};

/** What a scenario ran on besides the machine: engine set, replica count, config that shapes the figures. */
export type ScenarioEnvironment = Record<string, unknown>;
