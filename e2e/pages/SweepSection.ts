import { expect, type Locator, type Page } from '@playwright/test';

/** The "Sweeps and paper targets" panel as a user sees it. */
export class SweepSection {
  constructor(readonly page: Page) {}

  panel(): Locator {
    return this.page.getByTestId('sweeps');
  }

  async tab(name: 'Paper targets' | 'New sweep' | 'Stored sweeps'): Promise<void> {
    await this.panel().getByRole('tab', { name: new RegExp(`^${name}`) }).click();
  }

  gridSize(): Locator {
    return this.page.getByTestId('grid-size');
  }

  async start(): Promise<void> {
    await expect(this.page.getByTestId('start-sweep')).toBeEnabled();
    await this.page.getByTestId('start-sweep').click();
  }

  progress(): Locator {
    return this.page.getByTestId('sweep-progress');
  }

  /** Finished cells, from the progress view's machine-readable count. */
  async done(): Promise<number> {
    return Number(await this.progress().getAttribute('data-done'));
  }

  async total(): Promise<number> {
    return Number(await this.progress().getAttribute('data-total'));
  }

  status(): Locator {
    return this.page.getByTestId('sweep-status');
  }

  button(name: 'pause' | 'cancel' | 'resume'): Locator {
    return this.page.getByTestId(`${name}-sweep`);
  }

  table(): Locator {
    return this.page.getByTestId('sweep-table');
  }

  tableRows(): Locator {
    return this.table().locator('tbody tr');
  }

  async target(id: string): Promise<void> {
    await this.page.getByTestId(`run-${id}`).click();
  }

  verdicts(id: string): Locator {
    return this.page.getByTestId(`target-${id}`).getByTestId('verdicts');
  }
}
