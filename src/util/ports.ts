import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

/** A TCP port that is free right now on `host` (the OS picks it). */
export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
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

/** First `count` consecutive ports, at or above a random base in [from, to), free for both TCP and UDP. */
export async function freePortRange(count: number, host = '127.0.0.1', from = 20000, to = 60000): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = from + Math.floor(Math.random() * (to - from - count));
    let ok = true;
    for (let p = base; p < base + count && ok; p++) ok = (await canBindTcp(p, host)) && (await canBindUdp(p, host));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free TCP+UDP ports found`);
}
