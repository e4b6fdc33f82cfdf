/**
 * The other participants as this client knows them: peers from the join response, kept current by
 * notifications. Producers are kept apart so a producer of a peer we have not heard of yet (e.g.
 * the translation pipeline's) is not lost.
 */

import type { PeerInfo, ProducerInfo } from '../protocol/messages.js';

export type PeerSummary = Omit<PeerInfo, 'producers'>;

export class Roster {
  readonly #peers = new Map<string, PeerSummary>();
  readonly #producers = new Map<string, ProducerInfo>();

  /** Replaces everything with a join response's peers, leaving out ourselves. */
  reset(peers: PeerInfo[], selfId: string | null): void {
    this.#peers.clear();
    this.#producers.clear();
    for (const peer of peers) if (peer.peerId !== selfId) this.upsertPeer(peer);
  }

  clear(): void {
    this.#peers.clear();
    this.#producers.clear();
  }

  /** Adds or updates a peer and adds the producers it lists. */
  upsertPeer(peer: PeerInfo): void {
    const { producers, ...summary } = peer;
    this.#peers.set(peer.peerId, summary);
    for (const producer of producers ?? []) this.#producers.set(producer.producerId, { ...producer, peerId: peer.peerId });
  }

  /** Removes a peer and returns the ids of its producers (also removed). */
  removePeer(peerId: string): string[] {
    this.#peers.delete(peerId);
    const gone = [...this.#producers.values()].filter((p) => p.peerId === peerId).map((p) => p.producerId);
    for (const id of gone) this.#producers.delete(id);
    return gone;
  }

  addProducer(producer: ProducerInfo): void {
    this.#producers.set(producer.producerId, producer);
  }

  removeProducer(producerId: string): void {
    this.#producers.delete(producerId);
  }

  setPaused(producerId: string, paused: boolean): void {
    const producer = this.#producers.get(producerId);
    if (producer) producer.paused = paused;
  }

  producer(producerId: string): ProducerInfo | undefined {
    return this.#producers.get(producerId);
  }

  producers(): ProducerInfo[] {
    return [...this.#producers.values()];
  }

  peer(peerId: string): PeerSummary | undefined {
    return this.#peers.get(peerId);
  }

  /** Peers with their producers, in join order. */
  peers(): PeerInfo[] {
    return [...this.#peers.values()].map((peer) => ({
      ...peer,
      producers: [...this.#producers.values()].filter((p) => p.peerId === peer.peerId).map((p) => ({ ...p })),
    }));
  }
}
