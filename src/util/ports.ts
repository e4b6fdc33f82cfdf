import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** The low end of the kernel's range of source ports for outgoing connections (Linux; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

/**
 * A TCP port free right now on `host`, below the kernel's ephemeral range: a server stopped and started
 * again on it (a restart, a failover test) cannot find it taken meanwhile as the source port of some
 * outgoing connection, or by a client's reconnect connecting to itself.
 */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  const low = ephemeralLow();
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 10_000 + Math.floor(Math.random() * (low - 10_000));
    if (await canBindTcp(port, host)) return port;
  }
  throw new Error(`no free TCP port found in 10000-${low - 1}`);
}

function canBindTcp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

function canBindUdp(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4');
    sock.once('error', () => resolve(false));
    sock.bind(port, host, () => sock.close(() => resolve(true)));
  });
}

/**
 * First `count` consecutive ports, at or above a random base in [from, to), free for both TCP and UDP. Below
 * the ephemeral range by default, for the reason freeTcpPort gives: a mediasoup worker that restarts binds
 * its WebRtcServer's port again, which an outgoing connection may otherwise have taken meanwhile.
 */
export async function freePortRange(count: number, host = '127.0.0.1', from = 20000, to = ephemeralLow()): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = (await canBindTcp(p, host)) && (await canBindUdp(p, host));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free TCP+UDP ports found`);
}
