/** Entry point: builds the page's parts and connects the session to the view. */

import { CaptionsPanel } from './captions-panel.js';
import { CaptionStore } from './captions.js';
import { readPageConfig } from './config.js';
import { installDebugHook } from './debug.js';
import { EngineStatus } from './engines.js';
import { LevelMeters } from './levels.js';
import { Mixer } from './mixer.js';
import { endedMessage, moderationView } from './moderation.js';
import { ModerationControls } from './moderationControls.js';
import { Notices } from './notices.js';
import { Session } from './session.js';
import { SELF_LEVEL_KEY, Tiles } from './tiles.js';
import { Shell } from './ui.js';
import { VideoViews } from './videoViews.js';

function start(): void {
  const config = readPageConfig();
  const session = new Session(config);
  const captionStore = new CaptionStore();
  const videoViews = new VideoViews((consumerId, view) => session.setVideoView(consumerId, view));
  installDebugHook(session, () => captionStore.log(), () => captionStore.spokenLog(), () => videoViews.log());

  const levels = new LevelMeters();
  const mixer = new Mixer(document.getElementById('audio-sink') as HTMLElement, levels);
  const moderation = new ModerationControls(document.getElementById('moderation-bar') as HTMLElement, {
    remove: (peerId, reason) => void session.moderate('removePeer', reason ? { peerId, reason } : { peerId }),
    mute: (peerId, producerId, muted) => void session.moderate('mutePeer', { peerId, producerId, muted }),
    closeRoom: (reason) => void session.moderate('closeRoom', reason ? { reason } : {}),
  });
  const tiles = new Tiles(
    document.getElementById('participants') as HTMLElement,
    document.getElementById('tile-template') as HTMLTemplateElement,
    levels,
    mixer,
    videoViews,
    (tile, peerId) => moderation.decorate(tile, peerId),
  );
  const notices = new Notices(document.getElementById('errors') as HTMLElement);
  const engineStatus = new EngineStatus(document.getElementById('ai-engines') as HTMLElement);
  const captions = new CaptionsPanel(
    document.getElementById('captions') as HTMLElement,
    document.getElementById('stage') as HTMLElement,
    document.getElementById('captions-button') as HTMLButtonElement,
  );
  let captionFrame = 0;
  const renderCaptions = (): void => {
    cancelAnimationFrame(captionFrame);
    captionFrame = 0;
    const form = session.form;
    if (!form) return;
    captions.render(captionStore.utterances(), {
      listeningLanguage: form.listeningLanguage,
      selfPeerId: session.peerId,
      peers: session.peers(),
    });
  };

  const shell = new Shell(config, {
    join: (form) => {
      levels.unlock(); // inside the click: browsers only start audio after a user gesture
      notices.clear();
      shell.setEnded(null);
      mixer.setListeningLanguage(form.listeningLanguage);
      session.join(form).catch(() => undefined); // shown through the 'error' event
    },
    leave: () => void session.leave(),
    toggleMute: () => void session.setMuted(!session.muted),
    toggleCamera: () => void session.setVideo('cam', !session.camTrack),
    toggleScreen: () => void session.setVideo('screen', !session.screenTrack),
    changeLanguages: (languages) => {
      if (languages.listeningLanguage) mixer.setListeningLanguage(languages.listeningLanguage);
      void session.setLanguages(languages);
    },
  });

  const render = (): void => {
    const form = session.form;
    const inCall = session.state === 'connected' || session.state === 'reconnecting';
    const mic = session.micTrack;
    if (mic) levels.watch(SELF_LEVEL_KEY, mic);
    else levels.unwatch(SELF_LEVEL_KEY);
    if (!form || !inCall) {
      moderation.update(null);
      tiles.render(null, [], '', null);
      engineStatus.clear();
      return;
    }
    const peers = session.peers();
    const speaking = peers.filter((p) => p.role !== 'listener').map((p) => p.spokenLanguage);
    engineStatus.update(session.url, form.listeningLanguage, speaking);
    moderation.update(moderationView(session.permissions, peers));
    tiles.render(
      { ...form, muted: session.muted, hasMic: mic !== null, camTrack: session.camTrack, screenTrack: session.screenTrack },
      peers,
      form.roomId,
      session.activeSpeaker,
    );
    shell.setLocal({
      roomId: form.roomId,
      muted: session.muted,
      cameraOn: session.camTrack !== null,
      screenOn: session.screenTrack !== null,
      hasMic: mic !== null,
      allowed: { mic: session.mic.allowed, camera: session.permissions?.publishVideo ?? true, screen: session.permissions?.publishScreen ?? true },
      micNotice: session.mic.notice,
      spokenLanguage: form.spokenLanguage,
      listeningLanguage: form.listeningLanguage,
      peerCount: peers.length,
    });
    renderCaptions();
  };

  let previous = session.state;
  session.on('state', (state) => {
    shell.setState(state);
    if (state === 'connecting') {
      captionStore.clearUtterances(); // a new call starts with an empty panel
      captions.clear();
    }
    if (state === 'connected') {
      tiles.start();
      if (previous === 'reconnecting') notices.clear(); // the retries' errors are history now
    }
    previous = state;
    if (state === 'idle' || state === 'disconnected') {
      tiles.stop();
      mixer.clear();
    }
    render();
  });
  session.on('roster', render);
  session.on('activeSpeaker', render);
  session.on('local', render);
  session.on('mediaadded', (media) => {
    mixer.add(media);
    render();
  });
  session.on('mediaremoved', (media) => {
    mixer.remove(media);
    render();
  });
  session.on('caption', (caption) => {
    // Partial captions come in bursts: draw at most once a frame.
    if (captionStore.add(caption) && !captionFrame) captionFrame = requestAnimationFrame(renderCaptions);
  });
  session.on('captionSpoken', (spoken) => {
    if (captionStore.spoken(spoken) && !captionFrame) captionFrame = requestAnimationFrame(renderCaptions);
  });
  session.on('error', (error) => {
    // Removed, or the room ended: said once, plainly, where the join form is.
    const ended = endedMessage(error, session.endedRoom);
    if (ended) shell.setEnded(ended);
    else notices.show(error);
  });
  session.on('settings', (settings) => mixer.setDuckedVolume(settings.originalVolume));

  shell.setState(session.state);
  window.addEventListener('pagehide', () => void session.leave());
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start, { once: true });
else start();
