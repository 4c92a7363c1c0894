import { expect, test } from './fixtures.ts';

test.describe('sharing a spec by URL', () => {
  test('opening a shared link fills the form with its spec', async ({ lab, page }) => {
    await lab.open('#v=1&annotation.beta=3&annotation.budget=5000&model.objective=bt-mlp&model.hidden=32,16&model.training.rollback=true&seeds=1,2');
    await expect(lab.field('β: annotation quality')).toHaveValue('3');
    await expect(lab.field('Budget (annotated pairs)')).toHaveValue('5000');
    await expect(page.getByRole('radio', { name: /BT-MLP/ })).toBeChecked();
    await expect(lab.field('Hidden widths')).toHaveValue('32, 16');
    await expect(lab.field('Seeds')).toHaveValue('1, 2');
    await expect(page.getByLabel('Restore the best validation epoch at the end')).toBeChecked();
    // Fields the link leaves out are the paper's.
    await expect(lab.field('Batch size')).toHaveValue('10240');
    await expect(page.getByLabel('Protocol deviations')).toContainText('rollback');
  });

  test('the address bar follows the form, and its link restores the same spec elsewhere', async ({ lab, page, context }) => {
    await lab.open();
    await lab.setField('β: annotation quality', '0.7');
    await lab.objective('BT-MLP');
    await lab.setField('Repeats (random subsets)', '7');
    await expect(page).toHaveURL(/evaluation\.repeats=7/);
    const link = page.url();

    const other = await context.newPage();
    await other.goto(link);
    await expect(other.getByLabel('β: annotation quality', { exact: true })).toHaveValue('0.7');
    await expect(other.getByRole('radio', { name: /BT-MLP/ })).toBeChecked();
    await expect(other.getByLabel('Repeats (random subsets)', { exact: true })).toHaveValue('7');
    await other.close();
  });

  test('a link with bad fields keeps the good ones and says what it could not use', async ({ lab, page }) => {
    await lab.open('#v=1&annotation.beta=often&model.objective=svm&annotation.budget=3000');
    const notice = page.getByTestId('link-problem');
    await expect(notice).toContainText('Parts of the shared link could not be used');
    await expect(notice).toContainText('annotation.beta');
    await expect(notice).toContainText('model.objective');
    await expect(lab.field('Budget (annotated pairs)')).toHaveValue('3000');
    await expect(lab.field('β: annotation quality')).toHaveValue('10');
    await expect(lab.runButton()).toBeEnabled();
  });

  test('a link of an unknown format falls back to the quick demo', async ({ lab, page }) => {
    await lab.open('#v=7&annotation.beta=3');
    await expect(page.getByTestId('link-problem')).toContainText('could not be opened');
    await expect(lab.field('β: annotation quality')).toHaveValue('0.5');
  });
});
