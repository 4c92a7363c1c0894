import type { Progress } from '../../core/progress.ts';
import { duration } from '../format.ts';
import { ioParts } from '../ioFormat.ts';
import { useLab } from '../storeContext.tsx';

const STAGE_NAMES: Record<Progress['stage'], string> = {
  annotate: 'Annotating pairs',
  load: 'Loading embeddings',
  train: 'Training',
  score: 'Scoring test responses',
  evaluate: 'Evaluating',
  done: 'Done',
};

/** Where the run is: stage, seed, member, epoch, share done and the time left. */
function describeProgress(p: Progress): string[] {
  const parts = [STAGE_NAMES[p.stage]];
  const count = p.seedCount ?? 1;
  if (p.seeds > 1) parts.push(count > 1 ? `seeds ${p.seedIndex + 1}–${p.seedIndex + count}/${p.seeds}` : `seed ${p.seedIndex + 1}/${p.seeds}`);
  if (p.members > 1 && (p.stage === 'train' || p.stage === 'score')) parts.push(`member ${p.member + 1}/${p.members}`);
  if (p.stage === 'train' && p.epoch !== undefined) parts.push(`epoch ${p.epoch}/${p.epochs ?? '?'}`);
  return parts;
}

export function RunProgress() {
  const progress = useLab((s) => s.run.progress);
  const label = useLab((s) => s.run.label);
  const cancelling = useLab((s) => s.run.status === 'cancelling');
  const fraction = progress?.fraction ?? 0;
  // While files are read, the bytes still to read bound the time left from below.
  const ioEta = progress?.io?.etaSeconds ?? null;
  const eta = ioEta !== null && progress ? Math.max(ioEta, progress.etaSeconds ?? 0) : progress?.etaSeconds;
  return (
    <div className="run-progress" data-testid="progress" data-stage={progress?.stage ?? 'starting'}>
      <div className="progress-label">
        <span>{label}</span>
        <span>{Math.round(fraction * 100)}%</span>
      </div>
      <progress max={1} value={fraction} aria-label="Run progress" />
      <div className="progress-detail" aria-live="polite">
        {cancelling ? 'Cancelling…' : progress ? describeProgress(progress).join(' · ') : 'Starting…'}
        {!cancelling && eta !== null && eta !== undefined && <span className="eta"> · about {duration(eta * 1000)} left</span>}
        {!cancelling && progress?.io && (
          <span className="run-io" data-testid="progress-io">
            {progress.stage === 'score' ? 'test embeddings: ' : 'train embeddings: '}
            {ioParts({ ...progress.io, etaSeconds: null }).join(' · ')}
          </span>
        )}
      </div>
    </div>
  );
}
