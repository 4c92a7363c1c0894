import { NoiseChart } from '../charts/NoiseChart.tsx';
import { RewardChart } from '../charts/RewardChart.tsx';
import { duration, int, num } from '../format.ts';
import { demoSizeIssue } from '../specEdit.ts';
import { useLab } from '../storeContext.tsx';

/** The dataset the experiment runs on: what it is, how big, and how its rewards and labels behave. */
export function DatasetPanel() {
  const dataset = useLab((s) => s.dataset);
  const noise = useLab((s) => s.labelNoise.value);
  const beta = useLab((s) => s.draft.annotation.beta);
  const isDemo = useLab((s) => s.draft.dataset.kind === 'demo');
  const tooBig = useLab((s) => (s.draft.dataset.kind === 'demo' ? (demoSizeIssue(s.draft.dataset)?.message ?? null) : null));
  const d = dataset.value;
  if (!isDemo) {
    return (
      <section className="panel" aria-labelledby="dataset-title" data-testid="dataset-panel">
        <h2 id="dataset-title">Dataset</h2>
        <p className="muted">This spec names dataset files. The browser lab runs the synthetic demo; run file datasets with the CLI, or press Quick demo.</p>
      </section>
    );
  }
  return (
    <section className="panel" aria-labelledby="dataset-title" data-testid="dataset-panel" aria-busy={dataset.status === 'loading'}>
      <div className="panel-head">
        <h2 id="dataset-title">
          Dataset {d && <span className="mono">{d.info.id}</span>}
        </h2>
        {d?.info.synthetic && <span className="badge badge-synthetic">synthetic</span>}
      </div>
      {dataset.status === 'error' && (
        <p className="field-error" role="alert">
          The dataset could not be built: {dataset.error}
        </p>
      )}
      {tooBig && (
        <p className="field-error" role="alert">
          Not built: {tooBig}.
        </p>
      )}
      {!d && !tooBig && dataset.status !== 'error' && <p className="muted">Building the demo dataset…</p>}
      {d && !tooBig && (
        <>
          <p className="lede">
            A made-up world where the <strong>golden reward is known exactly</strong>: each response is a point in a hidden 16-dimensional space, its
            reward a fixed nonlinear function of that point plus a per-prompt offset, and its &ldquo;LLM embedding&rdquo; a noisy random projection of
            the point. A reward model sees only embeddings and pairwise labels, so how well it recovers the golden reward can be measured exactly. It
            stands in for real embedding files; its numbers show the paper&rsquo;s effects, not its values.
          </p>
          <dl className="facts" data-testid="dataset-facts">
            <div>
              <dt>Train split</dt>
              <dd data-testid="train-size">
                {int(d.train.prompts)} prompts × {d.train.responsesPerPrompt} responses
              </dd>
            </div>
            <div>
              <dt>Test split</dt>
              <dd data-testid="test-size">
                {int(d.test.prompts)} prompts × {d.test.responsesPerPrompt} responses
              </dd>
            </div>
            <div>
              <dt>Embedding size D</dt>
              <dd>{d.train.dim}</dd>
            </div>
            <div>
              <dt>Train reward</dt>
              <dd>
                {num(d.train.rewardMean, 2)} ± {num(d.train.rewardStd, 2)} (range {num(d.train.rewardMin, 1)} to {num(d.train.rewardMax, 1)})
              </dd>
            </div>
            <div>
              <dt>Reward variance within / between prompts</dt>
              <dd>
                {num(d.train.withinPromptVariance, 2)} / {num(d.train.betweenPromptVariance, 2)}
              </dd>
            </div>
            <div>
              <dt>Train responses sorted by reward</dt>
              <dd>{d.train.rankSorted ? 'yes (like the published data)' : 'no'}</dd>
            </div>
            <div>
              <dt>Built in</dt>
              <dd>{duration(d.buildMs)}, in the worker</dd>
            </div>
          </dl>
          <div className="chart-grid">
            <RewardChart train={d.trainRewards} test={d.testRewards} fileStem={d.info.id} />
            {noise && <NoiseChart points={noise.points} beta={beta} scale={noise.scale} fileStem={d.info.id} />}
          </div>
        </>
      )}
    </section>
  );
}
