/**
 * How Reward Lab launches Debian's Chromium headless (the e2e suite and the browser bench).
 * environment.md: these run as root, and keep Chromium off the closed network, where it stalls.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
];
