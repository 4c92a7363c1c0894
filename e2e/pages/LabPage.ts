import { expect, type Locator, type Page } from '@playwright/test';
import { DatasetFiles } from './DatasetFiles.ts';

const SCREENS_DIR = new URL('../../test-results/screens/', import.meta.url).pathname;

export type BackendName = 'webgpu' | 'wasm' | 'webgl' | 'cpu';

/** The lab as a user sees it: named controls and the numbers on the page. */
export class LabPage {
  /** Dataset files: picking, the plan before loading, the inspector. */
  readonly files: DatasetFiles;

  constructor(readonly page: Page) {
    this.files = new DatasetFiles(page);
  }

  async open(hash = ''): Promise<void> {
    await this.page.goto(`/${hash}`);
    await this.waitForBackend();
  }

  async reload(): Promise<void> {
    await this.page.reload();
    await this.waitForBackend();
  }

  backendStatus(): Locator {
    return this.page.getByTestId('backend-status');
  }

  async waitForBackend(name?: BackendName): Promise<void> {
    await expect(this.backendStatus()).toHaveAttribute('data-backend', name ?? /.+/, { timeout: 60_000 });
  }

  async chooseBackend(name: BackendName): Promise<void> {
    await this.page.getByLabel('Compute backend').selectOption(name);
    await this.waitForBackend(name);
  }

  field(label: string): Locator {
    return this.page.getByLabel(label, { exact: true });
  }

  async setField(label: string, value: string): Promise<void> {
    await this.field(label).fill(value);
  }

  async preset(name: 'Quick demo' | 'Paper defaults'): Promise<void> {
    await this.page.getByRole('button', { name, exact: true }).click();
  }

  async objective(name: 'BT-MLP' | 'CLF-MLP'): Promise<void> {
    await this.page.getByRole('radio', { name: new RegExp(name) }).check();
  }

  runButton(): Locator {
    return this.page.getByTestId('run');
  }

  cancelButton(): Locator {
    return this.page.getByTestId('cancel');
  }

  progress(): Locator {
    return this.page.getByTestId('progress');
  }

  runStatus(): Locator {
    return this.page.getByTestId('run-status');
  }

  async startRun(): Promise<void> {
    await expect(this.runButton()).toBeEnabled();
    await this.runButton().click();
  }

  async runToCompletion(timeout = 90_000): Promise<void> {
    const before = await this.runRows().count();
    await this.startRun();
    await expect(this.runStatus()).toHaveAttribute('data-status', 'finished', { timeout });
    await expect(this.runRows()).toHaveCount(before + 1);
  }

  results(): Locator {
    return this.page.getByTestId('results');
  }

  /** A headline number of the run shown in Results, read from the card's machine-readable value. */
  async metric(id: 'improvement' | 'spearman' | 'label-error' | 'held-out' | 'top-half' | 'time'): Promise<number> {
    const value = await this.page.getByTestId(`metric-${id}`).getAttribute('data-value');
    return Number(value);
  }

  /** The rows of a chart's data table (under its "Data" disclosure), keyed by column name. */
  async chartData(chartId: string): Promise<Record<string, string>[]> {
    const chart = this.page.getByTestId(chartId);
    await chart.locator('.data-table > summary').click();
    const table = chart.locator('.data-table table');
    const columns = await table.locator('thead th').allTextContents();
    const rows = await table.locator('tbody tr').all();
    return Promise.all(
      rows.map(async (row) => {
        const cells = await row.locator('td').allTextContents();
        return Object.fromEntries(columns.map((c, i) => [c, cells[i]]));
      }),
    );
  }

  /** Drawn marks of a chart: the SVG exists and holds paths (lines, areas, bars). */
  async chartMarks(chartId: string): Promise<number> {
    return this.page.getByTestId(chartId).locator('svg.recharts-surface path').count();
  }

  resultBackend(): Locator {
    return this.page.getByTestId('result-backend');
  }

  runRows(): Locator {
    return this.page.getByTestId('run-list').locator('tbody tr');
  }

  async compare(labels: readonly string[]): Promise<void> {
    for (const label of labels) await this.page.getByRole('checkbox', { name: new RegExp(`^Compare ${escape(label)}`) }).first().check();
  }

  /** Form controls and buttons that a screen reader could not name (empty when every control is labelled). */
  async unlabelledControls(): Promise<string[]> {
    return this.page.evaluate(() => {
      const named = (el: Element) => {
        const aria = el.getAttribute('aria-label') ?? '';
        const labelled = el.getAttribute('aria-labelledby');
        if (aria.trim() || (labelled && document.getElementById(labelled)?.textContent?.trim())) return true;
        if (el instanceof HTMLButtonElement || el instanceof HTMLAnchorElement) return Boolean(el.textContent?.trim());
        if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) {
          return [...(el.labels ?? [])].some((l) => l.textContent?.trim());
        }
        if (el instanceof HTMLProgressElement) return false;
        return true;
      };
      return [...document.querySelectorAll('input, select, textarea, button, a[href], progress')]
        .filter((el) => !named(el))
        .map((el) => el.outerHTML.slice(0, 120));
    });
  }

  /** A test artifact under test-results/screens: one element, or the window as the user sees it. */
  async screenshot(name: string, target?: Locator): Promise<void> {
    const path = `${SCREENS_DIR}${name}.png`;
    if (target) {
      await target.screenshot({ path });
    } else {
      await this.page.evaluate(() => window.scrollTo(0, 0));
      await this.page.screenshot({ path });
    }
  }
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
