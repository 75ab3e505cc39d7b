/**
 * Wires backend events to the slices. Events say *that* something changed; the slices re-read through
 * the contract. On every (re)connection everything is re-read, since events may have been missed.
 */
import type { BerthEvent } from '../../../shared/events';
import { onUnauthorized, transport } from '../api';
import { useApp } from './app';
import { useEngine } from './engine';
import { useImages } from './images';
import { useJobs } from './jobs';
import { useRegistry } from './registry';
import { create } from 'zustand';

/** Whether the event stream is up (the HTTP bridge can go away when `berth serve` stops). */
export const useConnection = create<{ connected: boolean; everConnected: boolean; unauthorized: boolean }>(() => ({
  connected: false,
  everConnected: false,
  unauthorized: false,
}));

let registryTimer: ReturnType<typeof setTimeout> | undefined;

function onEvent(event: BerthEvent): void {
  switch (event.type) {
    case 'job':
      useJobs.getState().apply(event.job);
      break;
    case 'engine.status': {
      const was = useEngine.getState().status?.connected;
      useEngine.getState().set(event.status);
      // The engine came back: what it holds may have changed while it was away.
      if (event.status.connected && !was) void useImages.getState().refresh();
      break;
    }
    case 'engine.images-changed':
      void useImages.getState().refresh();
      break;
    case 'registry.status':
      useRegistry.getState().setStatus(event.status);
      break;
    case 'registry.changed':
      // A push sends a burst of changes (blobs, then the manifest): re-read once it settles.
      clearTimeout(registryTimer);
      registryTimer = setTimeout(() => void useRegistry.getState().refresh(), 250);
      break;
  }
}

export function reloadAll(): void {
  void useApp.getState().load();
  void useEngine.getState().load();
  void useImages.getState().refresh();
  void useRegistry.getState().refresh();
  void useJobs.getState().load();
}

export function connectEvents(): () => void {
  const offAuth = onUnauthorized(() => useConnection.setState({ unauthorized: true }));
  reloadAll();
  const offEvents = transport.subscribe(
    onEvent,
    () => {
      const reconnect = useConnection.getState().everConnected;
      useConnection.setState({ connected: true, everConnected: true });
      if (reconnect) reloadAll();
    },
    () => useConnection.setState({ connected: false }),
  );
  return () => {
    offAuth();
    offEvents();
  };
}
