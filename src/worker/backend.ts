/**
 * Chooses the tfjs backend inside the worker: WebGPU when a hardware adapter exists, else
 * wasm (SIMD), else webgl, else cpu; a user override is tried first and falls back the same way.
 */
import * as tf from '@tensorflow/tfjs';
import { isSoftwareRenderer } from '../core/softwareRenderer.ts';
import '@tensorflow/tfjs-backend-webgpu';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlainUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import type { BackendInfo, WasmGemmChoice } from '../core/result.ts';
import {
  BACKEND_NAMES,
  type AdapterInfo,
  type BackendCandidate,
  type BackendChoice,
  type BackendName,
  type BackendReport,
} from './protocol.ts';
import { restoreStockWasm } from '../kernels/wasm/registration.ts';
import { registerThreadedWasm, wantedWasmThreads } from './wasmThreads.ts';
import { installWasmKernels } from '../kernels/wasm/heapKernels.ts';
import { attachBrowserGemm } from './gemmWorkers.ts';
import { installWebGpuKernels } from '../kernels/webgpu/index.ts';

// tfjs's own threaded start breaks in a minified build (workers throw, setBackend hangs), so it
// is never used: the stock registration runs the single-threaded SIMD binary, and where the
// worker is cross-origin isolated wasmThreads.ts re-registers 'wasm' to start the threaded
// binary its own way. setWasmPaths insists on a path for every binary.
// The fused WebGPU kernels serve only while 'webgpu' is the active backend (src/kernels/webgpu);
// the wasm row gather replaces a slow stock kernel (src/kernels/wasm).
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
/** Long enough for 8 pthreads to compile the module on a slow machine; a hang means it failed. */
const THREADED_START_TIMEOUT_MS = 30_000;
let threadedFailure: string | null = null;
/** What runs the wasm backend's matrix products (src/kernels/wasm/gemmKernel.ts). */
let wasmGemm: WasmGemmChoice = 'xnnpack';

/** The slice of the WebGPU API used here; the bundled @webgpu/types predate `adapter.info`. */
interface GpuAdapterLike {
  info?: { vendor?: string; architecture?: string; description?: string; device?: string; isFallbackAdapter?: boolean };
  isFallbackAdapter?: boolean;
}
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}

type AdapterProbe = { adapter: AdapterInfo } | { adapter: null; why: string };


async function probeAdapter(): Promise<AdapterProbe> {
  const gpu = (navigator as unknown as { gpu?: GpuLike }).gpu;
  if (!gpu) return { adapter: null, why: 'this browser exposes no WebGPU (navigator.gpu is missing)' };
  try {
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return { adapter: null, why: 'WebGPU is present but offered no adapter' };
    const info = adapter.info ?? {};
    const vendor = info.vendor ?? '';
    const architecture = info.architecture ?? '';
    const description = info.description || info.device || '';
    const software =
      info.isFallbackAdapter === true ||
      adapter.isFallbackAdapter === true ||
      isSoftwareRenderer(`${vendor} ${architecture} ${description}`);
    return { adapter: { vendor, architecture, description, software } };
  } catch (error) {
    return { adapter: null, why: `requesting a WebGPU adapter failed: ${messageOf(error)}` };
  }
}

async function trySetBackend(name: BackendName): Promise<string | null> {
  try {
    if (!(await tf.setBackend(name))) return 'failed to initialise';
    await tf.ready();
    return null;
  } catch (error) {
    return `failed to initialise: ${messageOf(error)}`;
  }
}

/** wasm, threaded where registered; if the threaded build does not start, the single-threaded one. */
async function trySetWasm(): Promise<string | null> {
  if (WASM_THREADS > 1 && threadedFailure === null) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`did not start within ${THREADED_START_TIMEOUT_MS / 1000} s`), THREADED_START_TIMEOUT_MS);
    });
    const failure = await Promise.race([trySetBackend('wasm'), timeout]).finally(() => clearTimeout(timer));
    if (failure === null) return null;
    threadedFailure = failure;
    console.warn(`wasm threads unavailable (the threaded build ${failure}); running single-threaded`);
    restoreStockWasm();
  }
  return trySetBackend('wasm');
}

/** XNNPACK's thread count on wasm (1 = single-threaded build). */
function wasmThreadCount(): number {
  try {
    return getThreadsCount();
  } catch {
    return 1;
  }
}

export async function selectBackend(choice: BackendChoice): Promise<BackendReport> {
  const probe = await probeAdapter();
  const order: BackendName[] = choice === 'auto' ? [...BACKEND_NAMES] : [choice, ...BACKEND_NAMES.filter((n) => n !== choice)];
  const candidates = new Map<BackendName, BackendCandidate>(
    BACKEND_NAMES.map((name) => [name, { name, status: 'untried', note: 'not needed: an earlier choice worked' }]),
  );
  const mark = (name: BackendName, status: BackendCandidate['status'], note: string) => candidates.set(name, { name, status, note });
  const passedOver: string[] = [];

  for (const name of order) {
    if (name === 'webgpu') {
      if (probe.adapter === null) {
        mark(name, 'unavailable', probe.why);
        passedOver.push(`WebGPU unavailable: ${probe.why}`);
        continue;
      }
      if (choice === 'auto' && probe.adapter.software) {
        // A CPU-emulated adapter computes correctly but ~30× slower than wasm (environment.md),
        // so the automatic choice passes it over; it stays one click away in the override.
        mark(name, 'skipped', `the adapter (${adapterLabel(probe.adapter)}) is a software emulation, slower than wasm`);
        passedOver.push('WebGPU skipped: its adapter is a software emulation');
        continue;
      }
    }
    const failure = name === 'wasm' ? await trySetWasm() : await trySetBackend(name);
    if (failure !== null) {
      mark(name, 'unavailable', failure);
      passedOver.push(`${name} ${failure}`);
      continue;
    }
    const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : null;
    if (name === 'wasm') wasmGemm = (await attachBrowserGemm()).gemm;
    mark(name, 'active', name === 'wasm' ? wasmNote(simd) : 'in use');
    for (const other of BACKEND_NAMES) {
      if (other !== name && candidates.get(other)?.status === 'untried') {
        mark(other, 'untried', 'not tried: an earlier choice worked');
      }
    }
    return {
      name,
      choice,
      adapter: name === 'webgpu' ? probe.adapter : null,
      simd,
      reason: explain(choice, name, passedOver),
      candidates: BACKEND_NAMES.map((n) => candidates.get(n) as BackendCandidate),
    };
  }
  throw new Error(`no tfjs backend could be initialised (${passedOver.join('; ')})`);
}

function explain(choice: BackendChoice, name: BackendName, passedOver: string[]): string {
  const story = passedOver.length ? ` (${passedOver.join('; ')})` : '';
  if (choice === 'auto') return `Chosen automatically: ${name}${story}.`;
  if (choice === name) return `Chosen by you: ${name}.`;
  return `You chose ${choice}, which could not be used; fell back to ${name}${story}.`;
}

function adapterLabel(adapter: AdapterInfo): string {
  const head = [adapter.vendor, adapter.architecture].filter(Boolean).join(' / ') || 'unknown adapter';
  return adapter.description ? `${head} (${adapter.description})` : head;
}

function wasmNote(simd: boolean | null): string {
  const threads = wasmThreadCount();
  const binary = `${simd ? 'SIMD binary' : 'plain binary (no SIMD support)'}, ${gemmLabel()}`;
  if (threads > 1) return `${binary}, ${threads} threads`;
  if (threadedFailure !== null) return `${binary}, single-threaded (the threaded build ${threadedFailure})`;
  return binary;
}

/** The backend as recorded in results. */
export function engineBackendInfo(report: BackendReport): BackendInfo {
  if (report.adapter) return { name: report.name, adapter: adapterLabel(report.adapter) };
  if (report.name === 'wasm') {
    const threads = wasmThreadCount();
    const simd = `${report.simd ? 'SIMD' : 'no SIMD'}, ${gemmLabel()}`;
    return { name: report.name, adapter: threads > 1 ? `${simd}, ${threads} threads` : simd, threads, gemm: wasmGemm };
  }
  return { name: report.name };
}

function gemmLabel(): string {
  return wasmGemm === 'relaxed-simd' ? 'relaxed-SIMD GEMM' : 'XNNPACK GEMM';
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
