import { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { createHash } from 'node:crypto';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { attachTfjsApi, MAX_WASM_THREADS, registerWasmFactory } from '../kernels/wasm/registration.ts';

/**
 * Runs tfjs's threaded SIMD wasm build in Node, which tfjs itself never does: its
 * WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired false under Node, and forcing it true fails
 * because tfjs hands emscripten's pthread pool Blob URLs (`new Worker("blob:nodedata:…")`:
 * ERR_WORKER_PATH). So the 'wasm' backend is re-registered with a factory that instantiates
 * the same emscripten glue tfjs bundles (wasm-out/tfjs-backend-wasm-threaded-simd.js) with
 * paths Node's worker_threads accept: the glue file itself as the pthreads' main script, and
 * the pthread worker source written once to a content-addressed file in the temp folder.
 *
 * Two caps to get past: tfjs's C++ clamps the pool to emscripten_num_logical_cores() / 2 (it
 * assumes two hyperthreads per core), read once while the module instantiates; in Node that
 * is `os.cpus().length`, so os.cpus is widened for the duration of the instantiation only.
 * The glue pre-spawns 8 pthread workers (its PTHREAD_POOL_SIZE); at most 8 threads.
 *
 * XNNPACK splits a GEMM's output tiles across threads; each output element's sum runs in the
 * same order whatever the thread count, so results are bit-identical to the single-threaded
 * build (checked on matMul and on training steps).
 */

type EmscriptenModule = Record<string, unknown> & {
  cwrap(name: string, returns: string | null, args: string[]): (...args: number[]) => unknown;
};
type Factory = (config: Record<string, unknown>) => Promise<EmscriptenModule>;

const require = createRequire(import.meta.url);

function workerScriptPath(): string {
  const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js') as {
    wasmWorkerContents: string;
  };
  // The source holds literal newlines inside string literals; tfjs escapes them the same way
  // before turning it into a Blob.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const digest = createHash('sha256').update(source).digest('hex').slice(0, 16);
  // .cjs: the script calls require(), and must not be taken for an ES module.
  const path = join(os.tmpdir(), `reward-lab-tfjs-wasm-pthread-${digest}.cjs`);
  if (!existsSync(path)) {
    const partial = `${path}.${process.pid}.tmp`;
    writeFileSync(partial, source);
    renameSync(partial, path); // atomic: concurrent CLIs never see half a file
  }
  return path;
}

/**
 * Re-registers tfjs's 'wasm' backend so that it initialises the threaded SIMD build with
 * `threads` threads (the calling thread plus threads − 1 pthreads). Call before
 * tf.setBackend('wasm'); restoreStockWasm() undoes it.
 */
export function registerThreadedWasm(threads: number): void {
  if (!Number.isInteger(threads) || threads < 1 || threads > MAX_WASM_THREADS) {
    throw new RangeError(`wasm threads must be an integer from 1 to ${MAX_WASM_THREADS}, got ${threads}`);
  }
  const gluePath = require.resolve('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.js');
  const factory = require(gluePath) as Factory;
  const workerPath = workerScriptPath();
  registerWasmFactory(async () => {
    const cpus = os.cpus;
    const widened = Math.max(cpus().length, 2 * threads);
    os.cpus = () => {
      const real = cpus();
      return Array.from({ length: widened }, (_, i) => real[i % real.length]);
    };
    let module: EmscriptenModule;
    try {
      module = await factory({
        locateFile: (path: string, prefix: string) => (path.endsWith('.worker.js') ? workerPath : prefix + path),
        mainScriptUrlOrBlob: gluePath,
      });
    } finally {
      os.cpus = cpus;
    }
    attachTfjsApi(module);
    // The constructor creates XNNPACK's pool: pthreads that live as long as the process and
    // that emscripten keeps referenced, so the CLI would never exit. They only ever run
    // while the main thread waits on them inside a kernel, so nothing is lost by unref'ing.
    const backend = new BackendWasm(module as unknown as ConstructorParameters<typeof BackendWasm>[0]);
    const pthreads = module.PThread as { runningWorkers: { unref(): void }[] } | undefined;
    for (const worker of pthreads?.runningWorkers ?? []) worker.unref();
    return backend;
  }, threads);
}
