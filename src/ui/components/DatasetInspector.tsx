import type { ReactNode } from 'react';
import { NoiseChart } from '../charts/NoiseChart.tsx';
import { RankChart } from '../charts/RankChart.tsx';
import { RewardChart } from '../charts/RewardChart.tsx';
import { int, num, pct } from '../format.ts';
import { bytes } from '../ioFormat.ts';
import { useActions, useLab } from '../storeContext.tsx';
import type { DatasetInspection, FilePlan, SplitInspection, SplitName } from '../../worker/protocol.ts';
import { FilesTaskProgress } from './FilesPanel.tsx';

export interface InspectorProps {
  inspection: DatasetInspection;
  /** The files behind the data, for dtype and layout; null for the demo. */
  plan: FilePlan | null;
  fileStem: string;
  /** One more fact, e.g. how long the data took to build or load. */
  extra?: { term: string; value: ReactNode };
}

function splitSize(s: SplitInspection): string {
  return `${int(s.summary.prompts)} prompts × ${s.summary.responsesPerPrompt} responses`;
}

function storage(plan: FilePlan, split: SplitName): string {
  const emb = plan.files.find((f) => f.split === split && f.role !== 'rewards');
  return `${emb?.dtype ?? '?'}, ${plan.splits[split].layoutText ?? 'layout undecided'}`;
}

/**
 * What is in the data, from its rewards and headers: sizes and storage, reward statistics,
 * whether the train split is rank-sorted (as published), within- vs between-prompt variance,
 * the annotator's label-error rates on this data (paper target T1), and for files a full
 * verification pass over the embeddings.
 */
export function DatasetInspector({ inspection, plan, fileStem, extra }: InspectorProps) {
  const noise = useLab((s) => s.labelNoise.value);
  const beta = useLab((s) => s.draft.annotation.beta);
  const { train, test } = inspection;
  const sorted = train.sortedPrompts === train.summary.prompts;
  return (
    <div className="inspector" data-testid="inspector">
      <dl className="facts" data-testid="dataset-facts">
        <div>
          <dt>Train split</dt>
          <dd data-testid="train-size">{splitSize(train)}</dd>
        </div>
        <div>
          <dt>Test split</dt>
          <dd data-testid="test-size">{splitSize(test)}</dd>
        </div>
        <div>
          <dt>Embedding size D</dt>
          <dd data-testid="dim">{train.summary.dim}</dd>
        </div>
        {plan ? (
          <>
            <div>
              <dt>Train embeddings stored as</dt>
              <dd data-testid="train-storage">{storage(plan, 'train')}</dd>
            </div>
            <div>
              <dt>Test embeddings stored as</dt>
              <dd data-testid="test-storage">{storage(plan, 'test')}</dd>
            </div>
          </>
        ) : (
          <div>
            <dt>Embeddings</dt>
            <dd>computed on demand (synthetic)</dd>
          </div>
        )}
        <div>
          <dt>Train reward</dt>
          <dd>
            {num(train.summary.rewardMean, 2)} ± {num(train.summary.rewardStd, 2)} (range {num(train.summary.rewardMin, 1)} to {num(train.summary.rewardMax, 1)})
          </dd>
        </div>
        <div>
          <dt>Reward variance within / between prompts</dt>
          <dd data-testid="variance">
            train {num(train.summary.withinPromptVariance, 2)} / {num(train.summary.betweenPromptVariance, 2)}; test {num(test.summary.withinPromptVariance, 2)} /{' '}
            {num(test.summary.betweenPromptVariance, 2)}
          </dd>
        </div>
        <div>
          <dt>Train rank-sorted (responses ascend by reward)</dt>
          <dd data-testid="rank-sorted" data-value={sorted ? 'yes' : 'no'}>
            {sorted
              ? `yes: all ${int(train.summary.prompts)} prompts (like the published data)`
              : `no: ${int(train.sortedPrompts)} of ${int(train.summary.prompts)} prompts ascend (${pct(train.sortedPrompts / train.summary.prompts)})`}
          </dd>
        </div>
        <div>
          <dt>Test rank-sorted</dt>
          <dd data-testid="test-rank-sorted" data-value={test.sortedPrompts === test.summary.prompts ? 'yes' : 'no'}>
            {test.sortedPrompts === test.summary.prompts ? 'yes' : `no (generation order; ${int(test.sortedPrompts)} of ${int(test.summary.prompts)} prompts ascend)`}
          </dd>
        </div>
        {extra && (
          <div>
            <dt>{extra.term}</dt>
            <dd>{extra.value}</dd>
          </div>
        )}
      </dl>
      <div className="chart-grid">
        <RewardChart train={inspection.trainRewards} test={inspection.testRewards} fileStem={fileStem} />
        <RankChart meanByRank={train.meanByRank} fileStem={fileStem} />
        {noise && <NoiseChart points={noise.points} beta={beta} scale={noise.scale} fileStem={fileStem} />}
      </div>
      <LabelErrorTable inspection={inspection} />
      {plan && <VerifyEmbeddings plan={plan} />}
    </div>
  );
}

function LabelErrorTable({ inspection }: { inspection: DatasetInspection }) {
  const t = inspection.labelErrors;
  return (
    <div className="inspector-section">
      <h3>Label errors per β on this data</h3>
      <table className="label-error-table" data-testid="label-error-table">
        <caption>
          Expected share of wrong labels on random same-prompt pairs, over all {int(t.prompts)} train prompts (paper target T1: β = 10 ≈ 5%, β = 0.5 ≈
          38%)
        </caption>
        <thead>
          <tr>
            <th scope="col">β</th>
            <th scope="col">s = task constant{t.taskScale !== null ? ` (${num(t.taskScale, 3)})` : ''}</th>
            <th scope="col">s = reward std ({num(t.stdScale, 3)})</th>
          </tr>
        </thead>
        <tbody>
          {t.rows.map((r) => (
            <tr key={r.beta} data-beta={r.beta}>
              <th scope="row">{r.beta}</th>
              <td data-scale="task">{r.task === null ? 'no task' : pct(r.task)}</td>
              <td data-scale="std">{pct(r.std)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function VerifyEmbeddings({ plan }: { plan: FilePlan }) {
  const task = useLab((s) => s.files.task);
  const verification = useLab((s) => s.files.verification);
  const runBusy = useLab((s) => s.run.status === 'running' || s.run.status === 'cancelling');
  const { verifyEmbeddings, cancelFilesTask } = useActions();
  const total = plan.splits.train.embeddingBytes + plan.splits.test.embeddingBytes;
  const v = verification?.value;
  const bad = v?.splits.filter((s) => s.nonFinite > 0) ?? [];
  return (
    <div className="inspector-section" data-testid="verify">
      <h3>Verify embeddings</h3>
      <p className="muted">
        Runs read only the rows they need and refuse NaN or ±Infinity in them. A full pass reads all {bytes(total)} of embeddings and counts every
        non-finite value.
      </p>
      {task?.kind === 'verify' ? (
        <FilesTaskProgress label="Verifying" progress={task.progress} onCancel={cancelFilesTask} testId="verify-progress" />
      ) : (
        <button type="button" onClick={() => void verifyEmbeddings()} disabled={task !== null || runBusy} data-testid="verify-start">
          Verify embeddings
        </button>
      )}
      {verification?.status === 'cancelled' && <p className="muted">Verification cancelled.</p>}
      {verification?.status === 'error' && (
        <p className="verify-result is-bad" role="alert">
          {verification.error}
        </p>
      )}
      {v && (
        <p className={bad.length ? 'verify-result is-bad' : 'verify-result is-clean'} role="status" data-testid="verify-result" data-nonfinite={bad.reduce((n, s) => n + s.nonFinite, 0)}>
          {bad.length === 0
            ? `No NaN or ±Infinity in ${v.splits.map((s) => `${int(s.rows)} ${s.split}`).join(' and ')} embedding rows (${bytes(v.bytesRead)} read in ${(v.ms / 1000).toFixed(1)} s).`
            : bad
                .map(
                  (s) =>
                    `${s.file}: ${int(s.nonFinite)} non-finite value${s.nonFinite === 1 ? '' : 's'} (NaN or ±Infinity)` +
                    (s.firstNonFinite ? `; the first at prompt ${s.firstNonFinite.prompt}, response ${s.firstNonFinite.response}, dim ${s.firstNonFinite.dim}` : ''),
                )
                .join('. ') + '. Runs that need these rows will refuse them.'}
        </p>
      )}
    </div>
  );
}
