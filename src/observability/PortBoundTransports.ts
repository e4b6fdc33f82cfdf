import { EventEmitter } from 'node:events';
import { types } from 'mediasoup';

/** The part of a mediasoup object this counter listens to. */
type Observed = { observer: Pick<EventEmitter, 'on' | 'once'> };

export type PortBoundTransportsOptions = {
  /** Whether a transport binds a UDP port of its own; default: Pipe and Plain transports do. */
  bindsOwnPort?: (transport: unknown) => boolean;
};

/** PipeTransports (between replicas and between routers) and PlainTransports (translation taps) each bind one port. */
const defaultBindsOwnPort = (t: unknown): boolean => t instanceof types.PipeTransport || t instanceof types.PlainTransport;

/**
 * Counts the open mediasoup transports of this process that bind a UDP port
 * of their own, taken from the workers' rtcMinPort..rtcMaxPort range
 * (`media.pipePortMin..pipePortMax`). WebRTC transports share their worker's
 * WebRtcServer port and take none. Fed only by mediasoup observers.
 */
export class PortBoundTransports {
  readonly #bindsOwnPort: (transport: unknown) => boolean;
  #open = 0;

  constructor(options: PortBoundTransportsOptions = {}) {
    this.#bindsOwnPort = options.bindsOwnPort ?? defaultBindsOwnPort;
  }

  /** Transports counted and not yet closed. */
  get open(): number {
    return this.#open;
  }

  /** Counts the transports of every router created on `worker` from now on (call for each new worker). */
  watchWorker(worker: Observed): void {
    worker.observer.on('newrouter', (router: Observed) => {
      router.observer.on('newtransport', (transport: Observed) => this.#track(transport));
    });
  }

  #track(transport: Observed): void {
    if (!this.#bindsOwnPort(transport)) return;
    this.#open++;
    transport.observer.once('close', () => {
      this.#open--;
    });
  }
}
