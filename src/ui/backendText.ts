import type { BackendReport } from '../worker/protocol.ts';

/** One line about the hardware behind a backend: the GPU adapter, or wasm's SIMD. */
export function adapterText(report: BackendReport): string {
  if (report.adapter) {
    const { vendor, architecture, description, software } = report.adapter;
    const name = [vendor, architecture].filter(Boolean).join(' / ') || 'unknown adapter';
    return `${name}${description ? ` (${description})` : ''}${software ? ', software' : ''}`;
  }
  if (report.simd !== null) return report.simd ? 'SIMD' : 'no SIMD';
  return '';
}
