// @vitest-environment happy-dom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultSpec } from '../../core/spec.ts';
import { RunPanel } from '../components/RunPanel.tsx';
import { connectEffects } from '../effects.ts';
import { memoryRepository } from '../runRepository.ts';
import { flattenSpec } from '../specUrl.ts';
import { createLabStore, type LabStore } from '../store.ts';
import { LabProvider } from '../storeContext.tsx';
import { FakeEngine, flush } from '../testing/fakes.ts';
import { fieldId } from './fieldId.ts';
import { SpecForm } from './SpecForm.tsx';

afterEach(cleanup);

async function renderLab(): Promise<{ store: LabStore; engine: FakeEngine }> {
  const engine = new FakeEngine();
  const store = createLabStore({ engine, repo: memoryRepository() });
  connectEffects(store, engine, null);
  await act(() => store.getState().actions.init());
  render(
    <LabProvider store={store}>
      <RunPanel />
      <SpecForm />
    </LabProvider>,
  );
  await act(flush);
  return { store, engine };
}

const field = (path: string) => {
  const el = document.getElementById(fieldId(path));
  if (!el) throw new Error(`no control for ${path}`);
  return el as HTMLInputElement;
};

describe('SpecForm', () => {
  it('has a labelled control for every field of the spec', async () => {
    const { store } = await renderLab();
    const paths = [...flattenSpec(defaultSpec()).keys()].filter((p) => p !== 'dataset.kind' && p !== 'annotation.scale.kind');
    // The boosted trees' fields show for CLF-GBDT, in place of the MLP's optimiser fields.
    const isGbdt = (p: string) => p.startsWith('model.gbdt.');
    for (const path of paths.filter((p) => !isGbdt(p))) {
      const control = field(path);
      expect(control.labels?.length ?? 0, path).toBeGreaterThan(0);
    }
    expect(document.getElementById(fieldId('model.gbdt.trees'))).toBeNull();
    act(() => store.getState().actions.editSpec((s) => ({ ...s, model: { ...s.model, objective: 'clf-gbdt' } })));
    for (const path of paths.filter(isGbdt)) {
      const control = field(path);
      expect(control.labels?.length ?? 0, path).toBeGreaterThan(0);
    }
    for (const mlpOnly of ['model.hidden', 'model.init', 'model.training.lr', 'model.training.epochs', 'model.training.batchSize']) {
      expect(document.getElementById(fieldId(mlpOnly)), mlpOnly).toBeNull();
    }
    expect(field('model.training.validationFraction')).toBeTruthy();
    act(() => store.getState().actions.editSpec((s) => ({ ...s, model: { ...s.model, objective: 'bt-mlp' } })));
    expect(screen.getByLabelText('Reward scale s')).toBe(field('annotation.scale.kind'));
    act(() => store.getState().actions.editSpec((s) => ({ ...s, annotation: { ...s.annotation, scale: { kind: 'custom', value: 2 } } })));
    expect(screen.getByLabelText('Custom scale value')).toBe(field('annotation.scale.value'));
  });

  it('edits the boosted trees when CLF-GBDT is chosen, in place of the MLP fields', async () => {
    const user = userEvent.setup();
    const { store } = await renderLab();
    expect(screen.queryByTestId('gbdt-fields')).toBeNull();
    await user.click(screen.getByRole('radio', { name: /CLF-GBDT/ }));
    expect(store.getState().draft.model.objective).toBe('clf-gbdt');
    expect(screen.queryByLabelText('Hidden widths')).toBeNull();
    const trees = screen.getByLabelText('Trees');
    expect(trees).toHaveValue('100');
    await user.clear(trees);
    await user.type(trees, '40');
    const leaves = screen.getByLabelText('Leaves per tree');
    await user.clear(leaves);
    await user.type(leaves, '7');
    expect(store.getState().draft.model.gbdt).toMatchObject({ trees: 40, leaves: 7, learningRate: 0.1, minDataInLeaf: 20 });
    expect(store.getState().validation.ok).toBe(true);
  });

  it('shows the schema message under a field and blocks Run, listing the problem', async () => {
    const user = userEvent.setup();
    await renderLab();
    const budget = screen.getByLabelText('Budget (annotated pairs)');
    await user.clear(budget);
    await user.type(budget, '0');
    expect(budget).toHaveAttribute('aria-invalid', 'true');
    expect(within(budget.closest('.field') as HTMLElement).getByRole('alert')).toHaveTextContent('budget must be at least 1');
    expect(screen.getByTestId('run')).toBeDisabled();
    expect(screen.getByTestId('issues')).toHaveTextContent('annotation.budget: budget must be at least 1');

    await user.type(budget, '500');
    expect(budget).toHaveValue('0500');
    expect(budget).not.toHaveAttribute('aria-invalid');
    expect(screen.getByTestId('run')).toBeEnabled();
  });

  it('keeps text it cannot read as typed, reports it, and keeps the last good value in the spec', async () => {
    const user = userEvent.setup();
    const { store } = await renderLab();
    const beta = screen.getByLabelText('β: annotation quality');
    await user.clear(beta);
    await user.type(beta, '1e-');
    expect(beta).toHaveValue('1e-');
    expect(screen.getByTestId('issues')).toHaveTextContent('annotation.beta: "1e-" is not a number');
    // "1" was readable on the way to "1e-": the spec holds it while the text is unreadable.
    expect(store.getState().draft.annotation.beta).toBe(1);
    await user.type(beta, '1');
    expect(store.getState().draft.annotation.beta).toBe(0.1);
    expect(screen.queryByTestId('issues')).toBeNull();
  });

  it('explains cross-field problems at the field to change', async () => {
    const user = userEvent.setup();
    await renderLab();
    const budget = screen.getByLabelText('Budget (annotated pairs)');
    await user.clear(budget);
    await user.type(budget, '9000');
    expect(within(budget.closest('.field') as HTMLElement).getByRole('alert')).toHaveTextContent('needs 9,000 prompts at 1 pair(s) per prompt, but the train split has only 4,000');
  });

  it('shows the expected label error for β live, and sets paper β values with one click', async () => {
    const user = userEvent.setup();
    await renderLab();
    // The fake engine's closed form: error = 0.5 / (1 + β).
    expect(screen.getByTestId('expected-label-error')).toHaveTextContent('≈ 33.3% of labels expected wrong');
    await user.click(screen.getByRole('button', { name: '10' }));
    expect(screen.getByLabelText('β: annotation quality')).toHaveValue('10');
    await act(() => new Promise((r) => setTimeout(r, 200)));
    expect(screen.getByTestId('expected-label-error')).toHaveTextContent('≈ 4.5% of labels expected wrong');
    await user.click(screen.getByRole('button', { name: 'perfect' }));
    expect(screen.getByTestId('expected-label-error')).toHaveTextContent('perfect annotator');
  });

  it('marks departures from the paper and switches presets', async () => {
    const user = userEvent.setup();
    const { store } = await renderLab();
    const budgetField = screen.getByLabelText('Budget (annotated pairs)').closest('.field') as HTMLElement;
    expect(budgetField).toHaveTextContent('paper: 10,000');
    expect(screen.getByRole('radio', { name: /CLF-MLP/ })).toBeChecked();

    await user.click(screen.getByRole('button', { name: 'Paper defaults' }));
    expect(store.getState().draft).toEqual(defaultSpec());
    expect(screen.getByRole('radio', { name: /BT-MLP/ })).toBeChecked();
    expect(screen.getByLabelText('Budget (annotated pairs)')).toHaveValue('10000');
    expect(screen.getByLabelText('Budget (annotated pairs)').closest('.field')).not.toHaveTextContent('paper:');
    expect(screen.getByRole('button', { name: 'Paper defaults' })).toHaveAttribute('aria-pressed', 'true');
    expect(screen.getByLabelText('Protocol deviations')).toHaveTextContent('paper-faithful');
  });

  it('reads lists of numbers and names the entry it cannot read', async () => {
    const user = userEvent.setup();
    const { store } = await renderLab();
    const widths = screen.getByLabelText('Hidden widths');
    await user.clear(widths);
    await user.type(widths, '256, 128 64');
    expect(store.getState().draft.model.hidden).toEqual([256, 128, 64]);
    await user.type(widths, ', x');
    expect(screen.getByTestId('issues')).toHaveTextContent('"x" is not a number');
    fireEvent.change(field('seeds'), { target: { value: '' } });
    expect(screen.getByTestId('issues')).toHaveTextContent('seeds: give at least one seed');
  });
});

describe('RunPanel', () => {
  it('runs, shows stage, epoch and time left, cancels, and runs again', async () => {
    const user = userEvent.setup();
    const { engine } = await renderLab();
    await user.click(screen.getByTestId('run'));
    expect(engine.runs).toHaveLength(1);
    act(() => engine.progress({ stage: 'train', epoch: 3, epochs: 30, fraction: 0.25, etaSeconds: 12 }));
    expect(screen.getByTestId('progress')).toHaveTextContent('Training · epoch 3/30');
    expect(screen.getByTestId('progress')).toHaveTextContent('about 12.0 s left');
    expect(screen.getByRole('progressbar', { name: 'Run progress' })).toHaveAttribute('value', '0.25');

    await user.click(screen.getByTestId('cancel'));
    await act(flush);
    expect(screen.getByTestId('run-status')).toHaveTextContent('Cancelled');
    expect(screen.getByTestId('run')).toBeEnabled();

    await user.keyboard('{Control>}{Enter}{/Control}');
    expect(engine.runs).toHaveLength(2);
    await act(async () => {
      engine.finish();
      await flush();
    });
    expect(screen.getByTestId('run-status')).toHaveAttribute('data-status', 'finished');
  });
});
