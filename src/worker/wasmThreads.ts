/**
 * tfjs's threaded SIMD wasm build, made to work in the engine worker and in a minified build.
 *
 * tfjs's own threaded start (backend_wasm.js init()) hands emscripten's pthreads their main
 * script as a Blob built from `wasmFactoryThreadedSimd.toString()`: the source text of the
 * bundled factory function. A minifier rewrites that function so it no longer stands alone, and
 * the pthreads die on it (the production build's "workers throw, setBackend('wasm') hangs").
 * Here the 'wasm' backend is re-registered with a factory that gives the pthreads the glue as
 * shipped (wasm-out/tfjs-backend-wasm-threaded-simd.js, emitted byte for byte with `?url`), which
 * they load with importScripts from this origin: no blob: scripts, so script-src stays 'self'.
 * The pthread bootstrap itself is a blob: worker, as in tfjs (worker-src already allows blob:).
 *
 * Needs cross-origin isolation (COOP same-origin + COEP require-corp on the page and on this
 * worker's script) for SharedArrayBuffer; without it tfjs's stock single-threaded build runs.
 * XNNPACK splits a GEMM's output tiles across threads, never a sum, so results are
 * bit-identical to the single-threaded build whatever the thread count.
 */
import * as tf from '@tensorflow/tfjs';
import { BackendWasm, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import createThreadedModule from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedGlueUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

/** The glue pre-spawns 8 pthread workers (its PTHREAD_POOL_SIZE): no more threads than that. */
export const MAX_WASM_THREADS = 8;
const WASM_PRIORITY = 2; // tfjs-backend-wasm's own

/**
 * How many threads the wasm backend should use here: one per logical core, when the context is
 * cross-origin isolated (else SharedArrayBuffer is missing and only the single-threaded build
 * runs). The build-time VITE_WASM_THREADS=N overrides it (1: never start the threaded build).
 */
export function wantedWasmThreads(): number {
  const forced = Number(import.meta.env.VITE_WASM_THREADS);
  const wanted = Number.isInteger(forced) && forced >= 1 ? forced : navigator.hardwareConcurrency || 1;
  if (!globalThis.crossOriginIsolated || typeof SharedArrayBuffer === 'undefined') return 1;
  return Math.min(MAX_WASM_THREADS, Math.max(1, wanted));
}

let stockFactory: ReturnType<typeof tf.findBackendFactory> | null = null;

/**
 * Re-registers 'wasm' to start the threaded build with `threads` threads (the calling thread
 * plus threads − 1 pthreads). Call before the wasm backend first initialises.
 */
export function registerThreadedWasm(threads: number, threadedWasmUrl: string): void {
  stockFactory ??= tf.findBackendFactory('wasm');
  const here = self.location.href;
  // Absolute: the pthreads run from blob: URLs, against which a path cannot resolve.
  const glueUrl = new URL(threadedGlueUrl, here).href;
  const wasmUrl = new URL(threadedWasmUrl, here).href;
  tf.removeBackend('wasm');
  tf.registerBackend(
    'wasm',
    async () => {
      let bootstrapUrl: string | null = null;
      const module = await withLogicalCores(2 * threads, () =>
        createThreadedModule({
          locateFile: (path: string) => {
            if (path.endsWith('.worker.js')) {
              // As tfjs does: the source holds literal newlines inside string literals.
              const source = wasmWorkerContents.replace(/\n/g, '\\n');
              bootstrapUrl ??= URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
              return bootstrapUrl;
            }
            return wasmUrl;
          },
          mainScriptUrlOrBlob: glueUrl,
        }),
      );
      const wasm = module as unknown as ThreadedModule;
      // What tfjs's own init() attaches (backend_wasm.js); BackendWasm and the kernels call these.
      wasm.tfjs = {
        init: wasm.cwrap('init', null, []),
        initWithThreadsCount: wasm.cwrap('init_with_threads_count', null, ['number']),
        getThreadsCount: wasm.cwrap('get_threads_count', 'number', []),
        registerTensor: wasm.cwrap('register_tensor', null, ['number', 'number', 'number']),
        disposeData: wasm.cwrap('dispose_data', null, ['number']),
        dispose: wasm.cwrap('dispose', null, []),
      };
      return new BackendWasm(module);
    },
    WASM_PRIORITY,
  );
  setThreadsCount(threads);
}

/** Puts tfjs's own single-threaded 'wasm' registration back (after a failed threaded start). */
export function restoreStockWasm(): void {
  if (!stockFactory) return;
  tf.removeBackend('wasm');
  tf.registerBackend('wasm', stockFactory, WASM_PRIORITY);
  setThreadsCount(-1);
}

interface ThreadedModule {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => unknown;
  tfjs: Record<string, unknown>;
}

/**
 * tfjs's C++ clamps the pool to emscripten_num_logical_cores() / 2 (it assumes two hyperthreads
 * per core), i.e. navigator.hardwareConcurrency / 2, read once while the module instantiates:
 * 1 thread on a 2-core machine whatever setThreadsCount asks. The count is widened for that
 * moment only.
 */
async function withLogicalCores<T>(cores: number, start: () => Promise<T>): Promise<T> {
  const nav = navigator as Navigator & { hardwareConcurrency: number };
  if (nav.hardwareConcurrency >= cores) return start();
  Object.defineProperty(nav, 'hardwareConcurrency', { value: cores, configurable: true });
  try {
    return await start();
  } finally {
    delete (nav as { hardwareConcurrency?: number }).hardwareConcurrency;
  }
}
