/** Toasts: short notices; errors carry the backend's message (and stay longer). */
import { create } from 'zustand';
import { asBerthError } from '../api';

export interface Toast {
  id: number;
  kind: 'error' | 'success' | 'info';
  message: string;
}

interface ToastState {
  toasts: Toast[];
  push(kind: Toast['kind'], message: string): void;
  dismiss(id: number): void;
}

let nextId = 1;

export const useToasts = create<ToastState>((set, get) => ({
  toasts: [],
  push(kind, message) {
    const id = nextId++;
    set({ toasts: [...get().toasts.slice(-4), { id, kind, message }] });
    setTimeout(() => get().dismiss(id), kind === 'error' ? 12_000 : 5_000);
  },
  dismiss(id) {
    set({ toasts: get().toasts.filter((t) => t.id !== id) });
  },
}));

export const toastError = (err: unknown, context?: string): void => {
  const e = asBerthError(err);
  useToasts.getState().push('error', context ? `${context}: ${e.message}` : e.message);
};
export const toastOk = (message: string): void => useToasts.getState().push('success', message);
