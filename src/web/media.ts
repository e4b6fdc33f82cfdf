/** Local capture: the microphone (kept across reconnects), the camera and a shared screen (while toggled on). */

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

/** The camera at 720p where the device offers it (its simulcast layers then reach 180p, 360p and 720p). */
export async function captureCamera(): Promise<MediaStreamTrack> {
  return getTrack({ video: { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } } }, 'camera');
}

/** A screen, window or tab the user picks, marked as detail (text) so the encoder keeps it sharp over smooth. */
export async function captureScreen(): Promise<MediaStreamTrack> {
  if (!navigator.mediaDevices?.getDisplayMedia) throw new ClientError(ClientErrors.MEDIA_DEVICE, 'This browser cannot share a screen');
  try {
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
    const track = stream.getVideoTracks()[0];
    if (!track) throw new Error('no track');
    track.contentHint = 'detail';
    return track;
  } catch (err) {
    const name = (err as Error).name;
    const why = name === 'NotAllowedError' ? 'it was cancelled or not allowed' : (err as Error).message;
    throw new ClientError(ClientErrors.MEDIA_DEVICE, `Cannot share the screen: ${why}`);
  }
}

/** The captured size of a video track (what its simulcast layers are fractions of). */
export function trackSize(track: MediaStreamTrack): { width: number; height: number } {
  const s = track.getSettings();
  return { width: s.width ?? 640, height: s.height ?? 360 };
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
