/**
 * A small typed event emitter for the browser client (Node's EventEmitter is not in the bundle).
 * Event maps follow mediasoup's style: `type FooEvents = { open: []; error: [ClientError] }`.
 */

export type EventMap = Record<string, unknown[]>;

type Listener<Args extends unknown[]> = (...args: Args) => void;
type StoredListener = (...args: unknown[]) => void;

export class Emitter<Events extends EventMap> {
  readonly #listeners = new Map<keyof Events, Set<StoredListener>>();

  /** Adds a listener and returns a function that removes it. */
  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as unknown as StoredListener);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.#listeners.get(event)?.delete(listener as unknown as StoredListener);
  }

  /** Calls listeners in order; one throwing listener does not stop the others. */
  protected emit<E extends keyof Events>(event: E, ...args: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (err) {
        console.error(`[parley] listener for "${String(event)}" threw`, err);
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
