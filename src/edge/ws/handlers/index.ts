import type { HandlerTable } from '../types.js';
import { consume, pauseConsumer, resumeConsumer, setConsumerView } from './consumer.js';
import { join } from './join.js';
import { closeRoom, mutePeer, removePeer } from './moderation.js';
import { leave, updatePeer } from './peer.js';
import { closeProducer, pauseProducer, produce, resumeProducer } from './producer.js';
import { connectTransport, createTransport } from './transport.js';

/** One handler per signaling method (docs/protocol.md). */
export const HANDLERS: HandlerTable = {
  join,
  createTransport,
  connectTransport,
  produce,
  closeProducer,
  pauseProducer,
  resumeProducer,
  consume,
  resumeConsumer,
  pauseConsumer,
  setConsumerView,
  updatePeer,
  leave,
  removePeer,
  mutePeer,
  closeRoom,
};
