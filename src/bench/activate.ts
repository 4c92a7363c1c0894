/**
 * Activates one exact tfjs backend in the bench page and describes what it runs on. Unlike the
 * engine's selectBackend (src/worker/backend.ts) there is no fallback: a benchmark labelled
 * "webgpu" must have run on webgpu, so a failure is reported, not papered over.
 */
import * as tf from '@tensorflow/tfjs';
import { isSoftwareRenderer } from '../core/softwareRenderer.ts';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { registerThreadedWasm, wantedWasmThreads } from '../worker/wasmThreads.ts';
import type { Activation, AdapterReport, BrowserBackend } from './protocol.ts';
import { installWasmKernels } from '../kernels/wasm/heapKernels.ts';
import { attachBrowserGemm } from '../worker/gemmWorkers.ts';
import { installWebGpuKernels } from '../kernels/webgpu/index.ts';

// Exactly as in the engine worker (src/worker/backend.ts), so the bench measures what the app
// runs: the threaded build where the page is cross-origin isolated (the dev server sends
// COOP/COEP), started the worker's way. setWasmPaths wants a path for every binary.
// The fused WebGPU kernels serve only while 'webgpu' is the active backend (src/kernels/webgpu).
installWebGpuKernels();
installWasmKernels();
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlainUrl,
  'tfjs-backend-wasm-simd.wasm': wasmSimdUrl,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedUrl,
});
const WASM_THREADS = wantedWasmThreads();
if (WASM_THREADS > 1) registerThreadedWasm(WASM_THREADS, wasmThreadedUrl);

/** The slice of the WebGPU API used here; the bundled @webgpu/types predate `adapter.info`. */
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}


type AdapterProbe = { adapter: AdapterReport } | { adapter: null; why: string };

/** Asks for the adapter the way tfjs-backend-webgpu does (high-performance), so it describes the one tfjs gets. */
async function probeAdapter(): Promise<AdapterProbe> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return { adapter: null, why: 'this browser exposes no WebGPU (navigator.gpu is missing; is --enable-unsafe-webgpu set?)' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, why: 'WebGPU is present but offered no adapter' };
    const info = adapter.info ?? {};
    const vendor = info.vendor ?? '';
    const architecture = info.architecture ?? '';
    const description = info.description || info.device || '';
    const isFallbackAdapter = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
    const software = isFallbackAdapter || isSoftwareRenderer(`${vendor} ${architecture} ${description}`);
    return { adapter: { vendor, architecture, description, isFallbackAdapter, software } };
  } catch (error) {
    return { adapter: null, why: `requesting a WebGPU adapter failed: ${messageOf(error)}` };
  }
}

function webglRenderer(): string | null {
  const gl = document.createElement('canvas').getContext('webgl2');
  if (!gl) return null;
  const debug = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(debug ? debug.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  // Give the context back: tfjs opens its own, and browsers cap live WebGL contexts.
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return renderer;
}

/**
 * tfjs swallows a backend's initialisation error (it warns and returns false), so the warnings it
 * prints while initialising are captured: they are the only place the real reason appears.
 */
async function setBackendExactly(backend: BrowserBackend): Promise<string | null> {
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...args: unknown[]) => {
    warnings.push(args.map(messageOf).join(' '));
    warn.apply(console, args);
  };
  try {
    if (!(await tf.setBackend(backend))) return warnings.join(' | ') || 'tf.setBackend returned false';
    await tf.ready();
  } catch (error) {
    return messageOf(error);
  } finally {
    console.warn = warn;
  }
  return tf.getBackend() === backend ? null : `tfjs reports "${tf.getBackend()}" active instead of "${backend}"`;
}

export async function activate(backend: BrowserBackend): Promise<Activation> {
  let adapter: AdapterReport | null = null;
  if (backend === 'webgpu') {
    const probe = await probeAdapter();
    if (probe.adapter === null) return { ok: false, backend, error: probe.why, adapter: null };
    adapter = probe.adapter;
  }
  const error = await setBackendExactly(backend);
  if (error !== null) return { ok: false, backend, error, adapter };
  return {
    ok: true,
    backend,
    adapter,
    renderer: backend === 'webgl' ? webglRenderer() : null,
    simd: backend === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null,
    threads: backend === 'wasm' ? getThreadsCount() : null,
    gemm: backend === 'wasm' ? (await attachBrowserGemm()).gemm : null,
    userAgent: navigator.userAgent,
  };
}

export function activeBackend(): string {
  return tf.getBackend();
}

export function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : String(error);
}
