// @vitest-environment happy-dom
import '@testing-library/jest-dom/vitest';
import { act, cleanup, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSpec } from '../../core/spec.ts';
import { RunPanel } from '../components/RunPanel.tsx';
import { memoryRepository } from '../runRepository.ts';
import { createLabStore } from '../store.ts';
import { LabProvider } from '../storeContext.tsx';
import { FakeEngine, flush } from '../testing/fakes.ts';
import { SweepProvider } from './sweepContext.tsx';
import { memorySweepRepository } from './sweepRepository.ts';
import { SweepsPanel } from './SweepsPanel.tsx';
import { createSweepStore, type SweepStore } from './sweepStore.ts';
import { FakeSweepEngine } from './testing.ts';

afterEach(cleanup);

const BASE = parseSpec({ dataset: { kind: 'demo', trainPrompts: 400, testPrompts: 30, dim: 16 }, annotation: { budget: 400 }, model: { hidden: [8] }, seeds: [0] });

async function renderPanel(): Promise<{ sweeps: SweepStore; engine: FakeSweepEngine }> {
  const engine = new FakeSweepEngine();
  const labEngine = new FakeEngine();
  const lab = createLabStore({ engine: labEngine, repo: memoryRepository() }, { spec: BASE });
  await act(() => lab.getState().actions.init());
  const sweeps = createSweepStore({ engine, repo: memorySweepRepository(), lab });
  await act(() => sweeps.getState().actions.init());
  render(
    <LabProvider store={lab}>
      <SweepProvider store={sweeps}>
        <RunPanel />
        <SweepsPanel />
      </SweepProvider>
    </LabProvider>,
  );
  await act(flush);
  return { sweeps, engine };
}

describe('SweepsPanel', () => {
  it('reproduces T7 in one click: the table beside the published values, 4/4 ✓', async () => {
    const user = userEvent.setup();
    await renderPanel();
    await user.click(screen.getByRole('button', { name: 'Reproduce T7: Theory table' }));
    await act(flush);
    const t7 = screen.getByTestId('target-T7');
    expect(within(t7).getByTestId('verdicts')).toHaveAttribute('data-reproduced', '1');
    expect(within(t7).getByTestId('verdicts')).toHaveTextContent(/✓.*Q table.*4\/4 values agree/);
    expect(within(t7).getByTestId('published')).toHaveTextContent('exact (table)');
    // The grids' sizes on this dataset, small and full.
    expect(screen.getByTestId('cells-T2')).toHaveTextContent('6 cells (full: 15 cells, not on this dataset)');
  });

  it('runs a sweep from the editor: progress counts, Run blocked meanwhile, then the table', async () => {
    const user = userEvent.setup();
    const { engine, sweeps } = await renderPanel();
    await user.click(screen.getByRole('tab', { name: 'New sweep' }));
    const seeds = within(screen.getByTestId('sweep-editor')).getByLabelText('Seeds');
    await user.clear(seeds);
    await user.type(seeds, '3');
    expect(screen.getByTestId('grid-size')).toHaveTextContent('4 cells: 2 × 2 × 1 seed');
    await user.click(screen.getByTestId('start-sweep'));
    await act(flush);
    expect(screen.getByTestId('sweep-progress')).toHaveAttribute('data-running', '1');
    expect(screen.getByTestId('sweep-progress')).toHaveAttribute('data-queued', '3');
    expect(screen.getByTestId('run')).toBeDisabled();
    expect(screen.getByTestId('start-sweep')).toBeDisabled();

    for (let i = 0; i < 4; i++) {
      await act(async () => {
        engine.finish();
        await flush();
      });
    }
    expect(sweeps.getState().active?.status).toBe('finished');
    expect(screen.getByTestId('sweep-status')).toHaveAttribute('data-status', 'finished');
    expect(screen.getByTestId('sweep-progress')).toHaveAttribute('data-done', '4');
    expect(within(screen.getByTestId('sweep-table')).getAllByRole('row')).toHaveLength(5);
    expect(screen.getByTestId('run')).toBeEnabled();
  });

  it('flags an unreadable value list and keeps Start disabled', async () => {
    const user = userEvent.setup();
    await renderPanel();
    await user.click(screen.getByRole('tab', { name: 'New sweep' }));
    const betas = screen.getByLabelText('β (annotation quality) values');
    await user.clear(betas);
    await user.type(betas, '0.5, x');
    expect(screen.getByRole('alert')).toHaveTextContent('β (annotation quality) values: "x" is not a number');
    expect(screen.getByTestId('start-sweep')).toBeDisabled();
  });
});
