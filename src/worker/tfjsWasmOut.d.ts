/** The pthread bootstrap source tfjs-backend-wasm ships beside its threaded glue (wasm-out/). */
declare module '@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js' {
  export const wasmWorkerContents: string;
}
