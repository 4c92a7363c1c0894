import { createContext, useContext, useSyncExternalStore, type ReactNode } from 'react';
import { useStore } from 'zustand';
import { isSweepBusy, type SweepActions, type SweepState, type SweepStore } from './sweepStore.ts';

const SweepContext = createContext<SweepStore | null>(null);

export function SweepProvider({ store, children }: { store: SweepStore; children: ReactNode }) {
  return <SweepContext.Provider value={store}>{children}</SweepContext.Provider>;
}

function useSweepStore(): SweepStore {
  const store = useContext(SweepContext);
  if (!store) throw new Error('useSweep must be used inside <SweepProvider>');
  return store;
}

/** Selects from the sweep state; select primitives or stable references. */
export function useSweep<T>(selector: (state: SweepState) => T): T {
  return useStore(useSweepStore(), selector);
}

export function useSweepActions(): SweepActions {
  return useStore(useSweepStore(), (s) => s.actions);
}

/** Whether a sweep holds the engine; false where no sweep store is provided (e.g. a form test). */
export function useSweepBusy(): boolean {
  const store = useContext(SweepContext);
  return useSyncExternalStore(store?.subscribe ?? noSubscription, () => (store ? isSweepBusy(store.getState().active?.status) : false));
}

const noSubscription = () => () => undefined;
