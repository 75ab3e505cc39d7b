/** The backend's event bus: services publish, transports (IPC, server-sent events) forward to the UI. */
import type { BerthEvent, EventListener } from '../../shared/events';

export class EventBus {
  private listeners = new Set<EventListener>();
  publish(event: BerthEvent): void {
    for (const l of this.listeners) {
      try {
        l(event);
      } catch {
        // A broken listener (a closed window, a dropped SSE socket) must not stop the others.
      }
    }
  }
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
