import { expect, type Locator, type Page } from '@playwright/test';

/** The Dataset files panel and the dataset inspector, as a user sees them. */
export class DatasetFiles {
  constructor(readonly page: Page) {}

  panel(): Locator {
    return this.page.getByTestId('files-panel');
  }

  /** Picks files through the "Choose files…" input (never read on the page: the worker reads them). */
  async pick(paths: readonly string[]): Promise<void> {
    await this.page.getByTestId('pick-files').setInputFiles([...paths]);
  }

  /** Picks a whole folder through the "Choose a folder…" input. */
  async pickFolder(dir: string): Promise<void> {
    await this.page.getByTestId('pick-folder').setInputFiles(dir);
  }

  plan(): Locator {
    return this.page.getByTestId('files-plan');
  }

  layout(split: 'train' | 'test'): Locator {
    return this.page.getByTestId(`layout-${split}`);
  }

  error(): Locator {
    return this.page.getByTestId('files-error');
  }

  async load(): Promise<void> {
    await this.page.getByTestId('load-files').click();
    await expect(this.page.getByTestId('files-loaded')).toBeVisible();
  }

  inspector(): Locator {
    return this.page.getByTestId('inspector');
  }

  /** The T1 table: β → expected label error (as shown, e.g. "5.1%") per scale. */
  async labelErrors(): Promise<{ beta: number; task: string; std: string }[]> {
    const rows = await this.page.getByTestId('label-error-table').locator('tbody tr').all();
    return Promise.all(
      rows.map(async (row) => ({
        beta: Number(await row.getAttribute('data-beta')),
        task: (await row.locator('[data-scale="task"]').textContent()) ?? '',
        std: (await row.locator('[data-scale="std"]').textContent()) ?? '',
      })),
    );
  }

  async verify(): Promise<Locator> {
    await this.page.getByTestId('verify-start').click();
    const result = this.page.getByTestId('verify-result');
    await expect(result).toBeVisible();
    return result;
  }
}
