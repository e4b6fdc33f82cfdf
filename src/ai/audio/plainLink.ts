import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';

/** A local UDP socket and a PlainTransport (rtcp-mux, no comedia) connected to each other on loopback. */
export type PlainLink = { socket: Socket; transport: types.PlainTransport };

/**
 * Opens the link, then runs `use` on it; on any failure (bind, transport,
 * `use`) closes both and rethrows. Without comedia mediasoup exchanges RTP
 * only with the address given here: our socket.
 */
export async function withPlainLink<T>(router: types.Router, ip: string, appData: Record<string, unknown>, use: (link: PlainLink) => Promise<T>): Promise<T> {
  const socket = createSocket('udp4');
  let transport: types.PlainTransport | null = null;
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, ip, () => {
        socket.off('error', reject);
        // A send failure (ENOBUFS, EPERM) must not become an uncaught exception: the packet is lost, as on any network.
        socket.on('error', () => undefined);
        resolve();
      });
    });
    transport = await router.createPlainTransport({ listenIp: { ip }, rtcpMux: true, comedia: false, appData });
    await transport.connect({ ip, port: socket.address().port });
    return await use({ socket, transport });
  } catch (err) {
    transport?.close();
    socket.close();
    throw err;
  }
}
