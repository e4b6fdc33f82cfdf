/** Local capture: the microphone (kept across reconnects) and the camera (while toggled on). */

import { ClientError, ClientErrors } from './errors.js';

export type CaptureOptions = {
  /** False gives the raw microphone (no AGC, echo cancellation or noise suppression). */
  audioProcessing: boolean;
};

export async function captureMicrophone(options: CaptureOptions): Promise<MediaStreamTrack> {
  const audio: MediaTrackConstraints = options.audioProcessing
    ? { autoGainControl: true, echoCancellation: true, noiseSuppression: true }
    : { autoGainControl: false, echoCancellation: false, noiseSuppression: false };
  const track = await getTrack({ audio }, 'microphone');
  return track;
}

export async function captureCamera(): Promise<MediaStreamTrack> {
  return getTrack({ video: { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } } }, 'camera');
}

async function getTrack(constraints: MediaStreamConstraints, what: string): Promise<MediaStreamTrack> {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new ClientError(ClientErrors.MEDIA_DEVICE, `This page cannot use the ${what} (needs https or localhost)`);
  }
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    const track = stream.getTracks()[0];
    if (!track) throw new Error('no track');
    return track;
  } catch (err) {
    const name = (err as Error).name;
    const why = name === 'NotAllowedError' ? 'permission was denied' : name === 'NotFoundError' ? 'none was found' : (err as Error).message;
    throw new ClientError(ClientErrors.MEDIA_DEVICE, `Cannot use the ${what}: ${why}`);
  }
}
