import type { ReactNode } from 'react';
import { pct } from '../format.ts';
import type { Topic } from '../store.ts';
import { useActions, useLab } from '../storeContext.tsx';

interface PointProps {
  topic: Topic;
  title: string;
  /** The element the point explains, and whether it is on the page yet. */
  target: { id: string; name: string; present: boolean };
  children: ReactNode;
}

/** One explainer point: hovering or focusing it highlights its chart; the button scrolls there. */
function Point({ topic, title, target, children }: PointProps) {
  const { setHighlight } = useActions();
  const active = useLab((s) => s.highlight === topic);
  const show = () => {
    setHighlight(topic);
    document.getElementById(target.id)?.scrollIntoView({ behavior: 'smooth', block: 'center' });
  };
  return (
    <article
      id={`explain-${topic}`}
      tabIndex={-1}
      className={active ? 'explain-point is-active' : 'explain-point'}
      onMouseEnter={() => setHighlight(topic)}
      onMouseLeave={() => setHighlight(null)}
      onFocus={() => setHighlight(topic)}
      onBlur={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget)) setHighlight(null);
      }}
      aria-labelledby={`explain-${topic}-title`}
    >
      <h3 id={`explain-${topic}-title`}>{title}</h3>
      {children}
      <button type="button" className="small" onClick={show} disabled={!target.present}>
        {target.present ? `Show ${target.name}` : `${target.name}: appears after a run`}
      </button>
    </article>
  );
}

/** Plain-language account of the method, each point tied to the chart that shows it. */
export function Explainer() {
  const beta = useLab((s) => s.draft.annotation.beta);
  const noise = useLab((s) => s.labelNoise.value);
  const hasRun = useLab((s) => s.activeRunId !== null);
  const comparing = useLab((s) => s.compareIds.length >= 2);
  const training = useLab((s) => s.live.length > 0 && s.run.status === 'running');
  const expected = noise && noise.beta === beta ? noise.points.find((p) => p.beta === beta)?.errorRate : undefined;
  const curvesId = training ? 'chart-live-loss' : 'chart-loss';
  return (
    <div className="explainer" aria-labelledby="explainer-title">
      <h2 id="explainer-title">How to read this lab</h2>
      <p className="muted">
        A reward model learns, from pairs of responses that an annotator compared, to score responses so that better ones score higher. Here the
        annotator is simulated from a known golden reward, so every score can be checked.
      </p>

      <Point topic="beta" title="What β does to labels" target={{ id: 'chart-noise', name: 'the noise chart', present: noise !== null }}>
        <p>
          The simulated annotator prefers response a over b with probability σ(β·(r<sub>a</sub> − r<sub>b</sub>)/s). A large β follows the golden
          reward almost always; a small β flips a coin more often, most of all for responses of similar quality.
        </p>
        <p className="live-note">
          {beta < 0
            ? 'Now: β < 0, a perfect annotator: every label follows the golden order.'
            : expected !== undefined
              ? `Now: β = ${beta}, so about ${pct(expected)} of random same-prompt labels are wrong.`
              : `Now: β = ${beta}.`}
        </p>
      </Point>

      <Point topic="bt" title="What a Bradley–Terry model assumes" target={{ id: curvesId, name: 'the training curves', present: hasRun || training }}>
        <p>
          Each response has one hidden score, and the chance that a beats b depends only on the score difference: P(a ≻ b) = σ(f(a) − f(b)). BT-MLP
          learns f from pairs, seeing both responses at once, by minimising the cross-entropy of the labels.
        </p>
        <p>
          With noisy labels, validation accuracy cannot rise much above the share of correct labels; the curves show whether the model is still
          learning or has started to fit noise (validation loss rising).
        </p>
      </Point>

      <Point topic="clf" title="Why a classifier is order-consistent too" target={{ id: 'chart-spearman', name: 'the Spearman chart', present: hasRun }}>
        <p>
          CLF-MLP drops the pairs: every winner becomes a row labelled 1, every loser a row labelled 0, and a plain classifier learns P(label 1 | x).
          A response that wins more of its comparisons gets a higher logit, so the logit orders responses the way the labels do, which is all that
          picking the best response needs. Ranking quality is what Spearman measures, prompt by prompt.
        </p>
        <p>The paper finds the classifier holds up better than BT when labels are noisy.</p>
      </Point>

      <Point topic="bon" title="What best-of-N measures" target={{ id: 'chart-bon', name: 'the best-of-N chart', present: hasRun }}>
        <p>
          Sample N responses to a prompt, keep the one the reward model scores highest, and look up its golden reward. Averaged over test prompts,
          this is the curve; the band is its spread over random subsets. The random-pick line is what no reward model gets, the oracle line what a
          perfect one gets. The improvement is the gain at the largest N over the average response.
        </p>
      </Point>

      <Point topic="compare" title="Try it: BT against CLF" target={{ id: 'compare', name: 'the comparison', present: comparing }}>
        <ol>
          <li>Press Quick demo, then Run: a CLF-MLP at β = 0.5 (noisy labels).</li>
          <li>Switch the objective to BT-MLP and Run again.</li>
          <li>Tick both in Runs: their curves overlay and the table marks the better one.</li>
          <li>Repeat at β = 10 (clean labels) and see the gap shrink.</li>
        </ol>
      </Point>
    </div>
  );
}
