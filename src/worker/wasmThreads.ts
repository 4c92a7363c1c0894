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
import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { attachTfjsApi, MAX_WASM_THREADS, registerWasmFactory, type WasmModule } from '../kernels/wasm/registration.ts';
import createThreadedModule from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js';
import threadedGlueUrl from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js?url';
import { wasmWorkerContents } from '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js';

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

/**
 * Re-registers 'wasm' to start the threaded build with `threads` threads (the calling thread
 * plus threads − 1 pthreads). Call before the wasm backend first initialises.
 */
export function registerThreadedWasm(threads: number, threadedWasmUrl: string): void {
  const here = self.location.href;
  // Absolute: the pthreads run from blob: URLs, against which a path cannot resolve.
  const glueUrl = new URL(threadedGlueUrl, here).href;
  const wasmUrl = new URL(threadedWasmUrl, here).href;
  registerWasmFactory(async () => {
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
    attachTfjsApi(module as unknown as WasmModule);
    return new BackendWasm(module);
  }, threads);
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
