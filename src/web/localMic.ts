/**
 * The page's microphone: captured once per call (kept across reconnects), sent on each call unless the
 * server does not let us (`publishAudio`), muted by the user or by a moderator. What each change means is
 * decided in moderation.ts; this class applies it to the track and to the call's producer.
 *
 * A microphone the server no longer lets us send stays captured but disabled (no new permission prompt
 * when it is allowed again, and then it is sent again at once).
 */

import type { Call } from './call.js';
import { ClientErrors, toClientError } from './errors.js';
import { captureMicrophone } from './media.js';
import { audioPermission, INITIAL_MIC, micMuted, moderatorMuted, userToggled } from './moderation.js';
import type { MicState, MicStep } from './moderation.js';

export class LocalMic {
  readonly #audioProcessing: boolean;
  readonly #onChange: () => void;
  #track: MediaStreamTrack | null = null;
  #state: MicState = INITIAL_MIC;

  /** `onChange`: the track or its state changed (the page re-renders). */
  constructor(options: { audioProcessing: boolean }, onChange: () => void) {
    this.#audioProcessing = options.audioProcessing;
    this.#onChange = onChange;
  }

  get track(): MediaStreamTrack | null {
    return this.#track;
  }

  get state(): MicState {
    return this.#state;
  }

  /** Whether it sends nothing now, for whatever reason (the toggle shows muted). */
  get muted(): boolean {
    return micMuted(this.#state);
  }

  /** Captures the microphone unless a live one is there. Throws a ClientError when capture fails. */
  async capture(): Promise<void> {
    if (this.#track && this.#track.readyState === 'live') return;
    this.#track = await captureMicrophone({ audioProcessing: this.#audioProcessing });
    this.#track.enabled = !this.muted;
    this.#onChange();
  }

  /** Sends the microphone on `call` (paused when muted); null when there is none or we may not. */
  produce(call: Call): Promise<string> | null {
    if (!this.#track || !this.#state.allowed || !call.canProduce('audio')) return null;
    return call.produce(this.#track, 'mic', this.muted);
  }

  /** The user's toggle. Throws (a ClientError) when the server refused, after going back to how it was. */
  setMuted(muted: boolean, call: Call | null): Promise<void> {
    return this.#apply(userToggled(this.#state, muted), call);
  }

  /** A moderator muted or unmuted our microphone (the server has paused or resumed the producer already). */
  moderated(muted: boolean, call: Call | null): Promise<void> {
    return this.#apply(moderatorMuted(this.#state, muted), call);
  }

  /** The server lets us send audio, or no longer (it has closed our producer then). */
  async setAllowed(allowed: boolean, call: Call | null): Promise<void> {
    const { state, drop, produce } = audioPermission(this.#state, allowed);
    if (drop) call?.forgetProducer('mic');
    this.#set(state);
    if (produce && call && !call.closed) await this.produce(call);
  }

  /** Stops the microphone and forgets every mute (the call is over). */
  stop(): void {
    this.#track?.stop();
    this.#track = null;
    this.#state = INITIAL_MIC;
    this.#onChange();
  }

  async #apply(step: MicStep, call: Call | null): Promise<void> {
    const before = this.#state;
    this.#set(step.state);
    if (!call || call.closed) return;
    try {
      await call.setPaused('mic', this.muted, step.tellServer);
    } catch (err) {
      const error = toClientError(err);
      // Refused (e.g. muted by a moderator who does not allow unmuting): the server kept the old state, so do we.
      // A dropped socket says nothing: the next call sends the microphone as it is now.
      if (error.code !== ClientErrors.SOCKET_CLOSED && !call.closed) {
        this.#set(before);
        await call.setPaused('mic', this.muted, false);
      }
      throw error;
    }
  }

  #set(state: MicState): void {
    this.#state = state;
    if (this.#track) this.#track.enabled = !this.muted;
    this.#onChange();
  }
}
