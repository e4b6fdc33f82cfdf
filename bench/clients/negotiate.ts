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

/** Adds a send-only audio transceiver to `peer`, offers, and applies the transport's answer. */
export async function offerToIceLite(peer: AudioPeer, transport: IceLiteTransport): Promise<Offered> {
  const transceiver = peer.addSender();
  await peer.pc.setLocalDescription(await peer.pc.createOffer());
  const local = parseLocalSdp(peer.pc.localDescription!.sdp);
  const section = local.audio[0];
  if (!section) throw new Error('local offer has no audio section');
  const answer = buildRemoteSdp(transport, [{ mid: section.mid, payloadType: section.payloadType, direction: 'recvonly', extensions: section.extensions }], 'answer');
  await peer.pc.setRemoteDescription({ type: 'answer', sdp: answer });
  return { transceiver, section, dtlsParameters: localDtlsParameters(local) };
}
