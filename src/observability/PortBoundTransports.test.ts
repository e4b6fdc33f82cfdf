import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { PortBoundTransports } from './PortBoundTransports.js';

const node = (kind = 'any') => ({ kind, observer: new EventEmitter() });

describe('PortBoundTransports', () => {
  it('counts only port-binding transports, down again when they close', () => {
    const counter = new PortBoundTransports({ bindsOwnPort: (t) => (t as { kind: string }).kind === 'pipe' });
    const worker = node();
    counter.watchWorker(worker);
    const router = node();
    worker.observer.emit('newrouter', router);
    const pipeA = node('pipe');
    const pipeB = node('pipe');
    const webrtc = node('webrtc');
    for (const t of [pipeA, pipeB, webrtc]) router.observer.emit('newtransport', t);
    expect(counter.open).toBe(2);
    pipeA.observer.emit('close');
    webrtc.observer.emit('close');
    expect(counter.open).toBe(1);
    pipeA.observer.emit('close'); // `once`: a second close event is not counted twice
    expect(counter.open).toBe(1);
  });

  it('follows every watched worker (a recreated worker is watched again)', () => {
    const counter = new PortBoundTransports({ bindsOwnPort: () => true });
    const first = node();
    const second = node();
    counter.watchWorker(first);
    counter.watchWorker(second);
    const r1 = node();
    const r2 = node();
    first.observer.emit('newrouter', r1);
    second.observer.emit('newrouter', r2);
    r1.observer.emit('newtransport', node());
    r2.observer.emit('newtransport', node());
    expect(counter.open).toBe(2);
  });

  it('by default knows no fake object as a port-binding transport', () => {
    const counter = new PortBoundTransports();
    const worker = node();
    counter.watchWorker(worker);
    const router = node();
    worker.observer.emit('newrouter', router);
    router.observer.emit('newtransport', node());
    expect(counter.open).toBe(0);
  });
});
