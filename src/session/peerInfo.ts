import type { RoomPeer, RoomProducer } from '../actors/room/machine.js';
import type { PeerInfo, ProducerInfo } from '../protocol/messages.js';

export function toProducerInfo(peerId: string, p: RoomProducer): ProducerInfo {
  return { producerId: p.producerId, peerId, kind: p.kind, paused: p.paused, source: p.source, ...(p.video ? { video: p.video } : {}) };
}

export function toPeerInfo(p: RoomPeer): PeerInfo {
  return {
    peerId: p.peerId,
    displayName: p.displayName,
    role: p.role,
    spokenLanguage: p.spokenLanguage,
    listeningLanguage: p.listeningLanguage,
    producers: Object.values(p.producers).map((q) => toProducerInfo(p.peerId, q)),
  };
}
