import { defineConfig, type Plugin } from 'vitest/config';
import react from '@vitejs/plugin-react';

/**
 * The page may talk to its own origin only: data never leaves the machine. wasm needs
 * 'wasm-unsafe-eval'; recharts and React set inline styles. The dev server is left without it
 * (its HMR client uses inline scripts and a websocket); the build and `vite preview` carry it,
 * so the end-to-end tests run under the real policy.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "worker-src 'self' blob:",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self' data: blob:",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'none'",
].join('; ');

/**
 * Cross-origin isolation: SharedArrayBuffer, and with it the threaded wasm build, exists only
 * in an isolated context. The page and the engine worker's script both need the pair; the app
 * loads nothing cross-origin, so require-corp costs nothing. A host that serves the build without
 * them gets the single-threaded wasm build: same results, slower.
 */
const CROSS_ORIGIN_ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

function contentSecurityPolicy(): Plugin {
  return {
    name: 'reward-lab-csp',
    apply: 'build',
    transformIndexHtml: () => [
      { tag: 'meta', attrs: { 'http-equiv': 'Content-Security-Policy', content: CONTENT_SECURITY_POLICY }, injectTo: 'head-prepend' },
    ],
  };
}

export default defineConfig({
  plugins: [react(), contentSecurityPolicy()],
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  server: { headers: CROSS_ORIGIN_ISOLATION },
  // A meta tag does not govern workers: the header does, for the page and the engine worker alike.
  preview: { headers: { 'Content-Security-Policy': CONTENT_SECURITY_POLICY, ...CROSS_ORIGIN_ISOLATION } },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
    testTimeout: 180_000,
    hookTimeout: 180_000,
    // tfjs backends are process-global; separate processes keep test files isolated.
    pool: 'forks',
  },
});
