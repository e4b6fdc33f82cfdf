/**
 * The client-offers flow against an ICE-lite mediasoup WebRtcTransport, shared
 * by the Parley client and the ports scenario: a send-only audio (or VP8 video)
 * offer from werift, mediasoup's answer built from the transport's parameters.
 */
import type { RTCRtpTransceiver } from 'werift';
import type { MediaPeer } from './MediaPeer.js';
import { buildRemoteSdp, localDtlsParameters, parseLocalSdp, type IceLiteTransport, type LocalSection, type MediaKind } from './sdp.js';

export type Offered = {
  transceiver: RTCRtpTransceiver;
  section: LocalSection;
  /** For the transport's connect (mediasoup `dtlsParameters`). */
  dtlsParameters: ReturnType<typeof localDtlsParameters>;
};

/**
 * Adds a send-only `kind` transceiver to `peer`, offers, has the transport
 * connected (`connect`, given the client's DTLS parameters), then applies the
 * transport's answer. That order matters, as in mediasoup-client: once the
 * answer is applied ICE completes within a millisecond on loopback, and
 * mediasoup then starts DTLS on its own, after which Parley refuses
 * connectTransport (ERR_WRONG_STATE, the transport is no longer 'new').
 */
export async function offerToIceLite(peer: MediaPeer, transport: IceLiteTransport, connect: (dtls: Offered['dtlsParameters']) => Promise<void>, kind: MediaKind = 'audio'): Promise<Offered> {
  const transceiver = kind === 'video' ? peer.addVideoSender() : peer.addSender();
  await peer.pc.setLocalDescription(await peer.pc.createOffer());
  const local = parseLocalSdp(peer.pc.localDescription!.sdp);
  const section = local[kind][0];
  if (!section) throw new Error(`local offer has no ${kind} section`);
  const answer = buildRemoteSdp(transport, [{ kind, mid: section.mid, payloadType: section.payloadType, direction: 'recvonly', extensions: section.extensions }], 'answer');
  const dtlsParameters = localDtlsParameters(local);
  await connect(dtlsParameters);
  await peer.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { transceiver, section, dtlsParameters };
}
