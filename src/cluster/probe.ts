import { createConnection } from 'node:net';

/**
 * Whether something accepts a TCP connection at `address` (host:port) within
 * `timeoutMs`. A replica whose event loop is stalled still has its listening
 * socket accepted by the kernel; a killed one is refused at once; a lost host
 * does not answer. That is the difference between late and gone.
 */
export function tcpAnswers(address: string, timeoutMs: number): Promise<boolean> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  if (colon <= 0 || !(port > 0 && port < 65536)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * The address the other replicas probe for this one: its HTTP listener, on the address they already
 * reach it at for pipes (`mediaIp`) when it listens on every interface.
 */
export function probeAddress(httpHost: string, mediaIp: string, port: number): string {
  const host = httpHost === '' || httpHost === '0.0.0.0' || httpHost === '::' ? mediaIp : httpHost;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
