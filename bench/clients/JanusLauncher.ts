/**
 * Starts the Debian `janus` (1.1.2) for a side-by-side measurement: a
 * generated configuration folder with only the VideoRoom plugin and the
 * WebSocket transport, loopback only, ICE-lite (as mediasoup is), no STUN or
 * NAT lookups, and a given RTP port range. `stop()` ends it and removes the folder.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortRange, freeTcpPort } from '../../src/util/ports.js';

export const JANUS_BIN = '/usr/bin/janus';
const LIB = '/usr/lib/x86_64-linux-gnu/janus';

export type JanusOptions = {
  /** Size of the RTP port range (one UDP port per PeerConnection with bundle + rtcp-mux). Default 2000. */
  rtpPorts?: number;
  /** Janus log level 0-7 (default 3: warnings). */
  debugLevel?: number;
  binary?: string;
};

export type JanusProcess = {
  /** ws://127.0.0.1:<port> of the WebSocket transport (subprotocol janus-protocol). */
  wsUrl: string;
  pid: number;
  rtpPortRange: [number, number];
  /** The IPv4 address Janus gathers its host candidates on (clients should use the same). */
  host: string;
  logs(): string;
  stop(): Promise<void>;
};

/** Starts janus and resolves once its WebSocket transport accepts connections. */
export async function startJanus(options: JanusOptions = {}): Promise<JanusProcess> {
  const binary = options.binary ?? JANUS_BIN;
  if (!existsSync(binary)) {
    throw new Error(`janus is not installed (${binary} missing): run "./parley setup --test" (it installs the Debian package janus 1.1.2) or "apt-get install janus"`);
  }
  const host = candidateHost();
  const wsPort = await freeTcpPort();
  const count = options.rtpPorts ?? 2000;
  const rtpMin = await freePortRange(Math.min(count, 50), '127.0.0.1', 20000, 60000 - count);
  const rtpPortRange: [number, number] = [rtpMin, rtpMin + count - 1];
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-janus-'));
  writeConfigs(dir, host, wsPort, rtpPortRange, options.debugLevel ?? 3);
  const child = spawn(binary, ['-C', join(dir, 'janus.jcfg'), '-F', dir, '-o'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (b: Buffer) => {
    output += b.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const force = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(force);
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(child, wsPort, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  return { wsUrl: `ws://127.0.0.1:${wsPort}`, pid: child.pid!, rtpPortRange, host, logs: () => output, stop };
}

/**
 * libnice (Janus's ICE stack) gathers no loopback candidates, so Janus is
 * pinned to this host's first non-loopback IPv4 address; traffic to it still
 * never leaves the machine (the kernel routes local addresses through lo).
 * 127.0.0.1 when the host has no other address.
 */
function candidateHost(): string {
  for (const list of Object.values(networkInterfaces())) {
    const v4 = list?.find((a) => a.family === 'IPv4' && !a.internal);
    if (v4) return v4.address;
  }
  return '127.0.0.1';
}

async function waitForPort(child: ChildProcess, port: number, logs: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  const { createConnection } = await import('node:net');
  for (;;) {
    if (child.exitCode !== null) throw new Error(`janus exited with ${child.exitCode}:\n${logs().slice(-3000)}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = createConnection({ host: '127.0.0.1', port }, () => {
        s.end();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`janus WebSocket port ${port} not open after 15 s:\n${logs().slice(-3000)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function writeConfigs(dir: string, host: string, wsPort: number, [rtpMin, rtpMax]: [number, number], debugLevel: number): void {
  const plugins = ['audiobridge', 'duktape', 'echotest', 'lua', 'nosip', 'recordplay', 'sip', 'streaming', 'textroom', 'videocall', 'voicemail'];
  const transports = ['http', 'mqtt', 'nanomsg', 'pfunix', 'rabbitmq'];
  writeFileSync(
    join(dir, 'janus.jcfg'),
    `general: {
  configs_folder = "${dir}"
  plugins_folder = "${LIB}/plugins"
  transports_folder = "${LIB}/transports"
  events_folder = "${LIB}/events"
  loggers_folder = "${LIB}/loggers"
  debug_level = ${debugLevel}
  session_timeout = 0
  server_name = "parley-bench"
}
certificates: {
}
media: {
  ipv6 = false
  rtp_port_range = "${rtpMin}-${rtpMax}"
}
nat: {
  nice_debug = false
  ice_lite = true
  ice_enforce_list = "${host}"
  ignore_mdns = true
}
plugins: {
  disable = "${plugins.map((p) => `libjanus_${p}.so`).join(',')}"
}
transports: {
  disable = "${transports.map((t) => `libjanus_${t}.so`).join(',')}"
}
loggers: {
  disable = "libjanus_jsonlog.so"
}
events: {
  broadcast = false
}
`,
  );
  writeFileSync(
    join(dir, 'janus.transport.websockets.jcfg'),
    `general: {
  json = "plain"
  ws = true
  ws_port = ${wsPort}
  ws_ip = "127.0.0.1"
  wss = false
}
admin: {
  admin_ws = false
  admin_wss = false
}
`,
  );
  writeFileSync(join(dir, 'janus.plugin.videoroom.jcfg'), 'general: {\n}\n');
}
