import { issueAt } from '../store.ts';
import { useLab } from '../storeContext.tsx';

export function useFieldIssue(path: string): string | null {
  return useLab((s) => issueAt(s.validation.issues, path));
}
