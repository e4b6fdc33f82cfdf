/**
 * The client-offers flow against an ICE-lite mediasoup WebRtcTransport, shared
 * by the Parley client and the ports scenario: a send-only audio offer from
 * werift, mediasoup's answer built from the transport's parameters.
 */
import type { RTCRtpTransceiver } from 'werift';
import type { AudioPeer } from './AudioPeer.js';
import { buildRemoteSdp, localDtlsParameters, parseLocalSdp, type IceLiteTransport, type LocalAudioSection } from './sdp.js';

export type Offered = {
  transceiver: RTCRtpTransceiver;
  section: LocalAudioSection;
  /** For the transport's connect (mediasoup `dtlsParameters`). */
  dtlsParameters: ReturnType<typeof localDtlsParameters>;
};

/**
 * Adds a send-only audio transceiver to `peer`, offers, has the transport
 * connected (`connect`, given the client's DTLS parameters), then applies the
 * transport's answer. That order matters, as in mediasoup-client: once the
 * answer is applied ICE completes within a millisecond on loopback, and
 * mediasoup then starts DTLS on its own, after which Parley refuses
 * connectTransport (ERR_WRONG_STATE, the transport is no longer 'new').
 */
export async function offerToIceLite(peer: AudioPeer, transport: IceLiteTransport, connect: (dtls: Offered['dtlsParameters']) => Promise<void>): Promise<Offered> {
  const transceiver = peer.addSender();
  await peer.pc.setLocalDescription(await peer.pc.createOffer());
  const local = parseLocalSdp(peer.pc.localDescription!.sdp);
  const section = local.audio[0];
  if (!section) throw new Error('local offer has no audio section');
  const answer = buildRemoteSdp(transport, [{ mid: section.mid, payloadType: section.payloadType, direction: 'recvonly', extensions: section.extensions }], 'answer');
  const dtlsParameters = localDtlsParameters(local);
  await connect(dtlsParameters);
  await peer.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { transceiver, section, dtlsParameters };
}
