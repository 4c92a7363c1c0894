import { test as base, expect } from '@playwright/test';
import { LabPage } from './pages/LabPage.ts';

interface Fixtures {
  lab: LabPage;
  /** Every URL the page and its worker requested. */
  requests: string[];
}

/**
 * Every test gets the lab page object, and every test checks on its way out that nothing
 * left the origin, that the Content-Security-Policy was never violated and that no script
 * error reached the page.
 */
export const test = base.extend<Fixtures>({
  requests: async ({ context }, provide) => {
    const urls: string[] = [];
    context.on('request', (request) => urls.push(request.url()));
    await provide(urls);
  },
  lab: async ({ page, requests, baseURL }, provide) => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    await page.addInitScript(() => {
      document.addEventListener('securitypolicyviolation', (event) => {
        console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
      });
    });
    await provide(new LabPage(page));
    const origin = new URL(baseURL ?? '').origin;
    const foreign = requests.filter((url) => !url.startsWith(`${origin}/`) && !/^(data|blob):/.test(url));
    expect(foreign, 'requests that left the origin').toEqual([]);
    expect(errors, 'script errors and CSP violations').toEqual([]);
  },
});

export { expect };
