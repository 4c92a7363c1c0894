import { createContext, useContext, type ReactNode } from 'react';
import { useStore } from 'zustand';
import type { LabActions, LabState, LabStore } from './store.ts';

const LabContext = createContext<LabStore | null>(null);

export function LabProvider({ store, children }: { store: LabStore; children: ReactNode }) {
  return <LabContext.Provider value={store}>{children}</LabContext.Provider>;
}

function useLabStore(): LabStore {
  const store = useContext(LabContext);
  if (!store) throw new Error('useLab must be used inside <LabProvider>');
  return store;
}

/** Selects from the lab state; select primitives or stable references (zustand compares with Object.is). */
export function useLab<T>(selector: (state: LabState) => T): T {
  return useStore(useLabStore(), selector);
}

export function useActions(): LabActions {
  return useStore(useLabStore(), (s) => s.actions);
}
