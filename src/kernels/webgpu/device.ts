/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import { FLAG_ENABLED } from './config.ts';

/**
 * Recording our own compute dispatches into tfjs's WebGPU backend.
 *
 * tfjs-backend-webgpu 4.22 records every program into one shared command encoder and compute
 * pass, and submits after WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE dispatches or when something is
 * read. `dispatch` below does exactly what its `recordAndSubmit` does, with our own pipelines:
 * the dispatch goes into the same pass, after every tfjs program recorded before it and before
 * every one recorded after, so ordering with tfjs's own work needs nothing extra (WebGPU orders
 * the storage writes and reads of successive dispatches in a pass). Tensors a dispatch binds are
 * marked as owned by the command queue, so a tensor disposed before the submit keeps its buffer
 * until then, as tfjs does for its own programs.
 *
 * Why not `backend.runWebGPUProgram`: it binds exactly one writable output, and the fused Adam
 * update writes three buffers in place (weights and both moments). Own WGSL also keeps each
 * kernel's source self-contained (no generated prefix) and its bindings explicit.
 *
 * The backend fields used here are not part of tfjs's public types; `webGpuBackend()` checks
 * that they exist and fails loudly if a tfjs upgrade moved them.
 */

type DataId = object;

interface TensorData {
  resource: unknown;
  values: unknown;
  refCount: number;
  dtype: tf.DataType;
  shape: number[];
  complexTensorInfos?: unknown;
}

interface BufferManager {
  acquireBuffer(size: number, usage: number): GPUBuffer;
  /** Buffers kept for reuse, by `${size}_${usage}`. */
  freeBuffers: Map<string, GPUBuffer[]>;
  numFreeBuffers: number;
  numBytesUsed: number;
  numBytesAllocated: number;
}

/** The slice of tfjs's WebGPUBackend (4.22) that the dispatches rely on. */
export interface WebGpuBackendInternals {
  readonly device: GPUDevice;
  commandEncoder: GPUCommandEncoder | null;
  computePassEncoder: GPUComputePassEncoder | null;
  commandQueueOwnedIds: WeakSet<DataId>;
  dispatchCountInPass: number;
  readonly tensorMap: { get(dataId: DataId): TensorData | undefined };
  readonly bufferManager: BufferManager;
  uploadToGPU(dataId: DataId): void;
  makeUniforms(fields: UniformField[]): GPUBufferBinding;
  makeTensorInfo(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  refCount(dataId: DataId): number;
  disposeData(dataId: DataId, force?: boolean): boolean;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

export interface UniformField {
  type: 'uint32' | 'int32' | 'float32';
  data: number[];
}

const REQUIRED_METHODS = [
  'uploadToGPU',
  'makeUniforms',
  'makeTensorInfo',
  'refCount',
  'disposeData',
  'ensureCommandEncoderReady',
  'endComputePassEncoder',
  'submitQueue',
] as const;

const checked = new WeakSet<object>();

/** The active tfjs backend as a WebGPU backend, after checking it has what the dispatches use. */
export function webGpuBackend(): WebGpuBackendInternals {
  const backend = tf.backend() as unknown as Record<string, unknown>;
  if (checked.has(backend)) return backend as unknown as WebGpuBackendInternals;
  if (tf.getBackend() !== 'webgpu') throw new Error(`the active tfjs backend is ${tf.getBackend()}, not webgpu`);
  const missing = REQUIRED_METHODS.filter((m) => typeof backend[m] !== 'function');
  if (typeof backend.device !== 'object' || backend.device === null) missing.push('device' as never);
  if (!(backend.commandQueueOwnedIds instanceof WeakSet)) missing.push('commandQueueOwnedIds' as never);
  if (typeof backend.dispatchCountInPass !== 'number') missing.push('dispatchCountInPass' as never);
  if (typeof backend.tensorMap !== 'object') missing.push('tensorMap' as never);
  const manager = backend.bufferManager as Record<string, unknown> | undefined;
  if (typeof manager?.acquireBuffer !== 'function' || !(manager.freeBuffers instanceof Map)) missing.push('bufferManager' as never);
  if (missing.length > 0) {
    throw new Error(
      `tfjs's WebGPU backend lacks ${missing.join(', ')}: the fused kernels were written against tfjs-backend-webgpu 4.22's internals`,
    );
  }
  checked.add(backend);
  uploadByQueueWrites(backend as unknown as WebGpuBackendInternals);
  return backend as unknown as WebGpuBackendInternals;
}

/**
 * While the fused kernels are enabled, a tensor's first upload goes through `queue.writeBuffer`
 * into a pooled buffer. tfjs's own path creates a mapped staging buffer per tensor, destroys it
 * after the submit, and records a copy that ends the compute pass: with a training step's 4–6
 * small index and weight uploads, `createBuffer` alone took ~0.8 ms of the host's ~4.5 ms per BT
 * step at batch 10,240 on an H200 (a CPU profile of Node + Dawn), and the host sets the pace of
 * CLF steps and of every step at batch 512. A write is ordered before the next submit, so the
 * unsubmitted commands see it; a pooled buffer is never one those commands still use (tfjs
 * returns a buffer to the pool only once no unsubmitted command holds it).
 */
function uploadByQueueWrites(b: WebGpuBackendInternals): void {
  const upload = b.uploadToGPU.bind(b);
  b.uploadToGPU = (dataId: DataId) => {
    const data = b.tensorMap.get(dataId);
    const values = data?.values;
    const writable = data && data.resource == null && data.complexTensorInfos == null && ArrayBuffer.isView(values) && data.dtype !== 'string';
    if (!writable || !tf.env().getBool(FLAG_ENABLED)) return upload(dataId);
    const elements = data.shape.reduce((n, d) => n * d, 1);
    if (elements === 0) return upload(dataId);
    // tfjs keeps int32 and bool tensors as 32-bit integers on the GPU, everything else as float32.
    const integers = data.dtype === 'int32' || data.dtype === 'bool';
    const typed = integers
      ? values instanceof Int32Array ? values : Int32Array.from(values as Uint8Array)
      : values instanceof Float32Array ? values : Float32Array.from(values as Float64Array);
    const buffer = b.bufferManager.acquireBuffer(elements * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    b.device.queue.writeBuffer(buffer, 0, typed.buffer, typed.byteOffset, elements * 4);
    data.resource = buffer;
    data.values = null;
  };
}

/**
 * Destroys the buffers tfjs keeps for reuse, when they hold more than `keepBytes`. Its pool reuses
 * a buffer only for the exact same size, and a training batch's distinct rows differ in number
 * from step to step, so every step adds buffers of new sizes (at the paper's batch of 10,240,
 * ~300 MB of activations and gradients each) that would otherwise be kept for good. A destroyed
 * buffer that submitted work still uses lives until that work is done (as tfjs's own staging
 * buffers, destroyed right after their submit).
 */
export function releaseIdleBuffers(b: WebGpuBackendInternals, keepBytes: number): void {
  const pool = b.bufferManager;
  if (pool.numBytesAllocated - pool.numBytesUsed <= keepBytes) return;
  for (const buffers of pool.freeBuffers.values()) {
    for (const buffer of buffers) {
      pool.numBytesAllocated -= buffer.size;
      buffer.destroy();
    }
    buffers.length = 0;
  }
  pool.numFreeBuffers = 0;
}

/** A compiled kernel: its pipeline and the number of storage bindings it declares (0..n−1). */
export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  /** The pipeline's bind group layout, asked for once: each call crosses into Dawn. */
  readonly layout: GPUBindGroupLayout;
  readonly label: string;
  readonly storageBindings: number;
}

const pipelines = new WeakMap<GPUDevice, Map<string, Kernel>>();
const errors: string[] = [];

/**
 * The kernel for `key`, compiled from `source()` on first use per device. `storageBindings` is the
 * number of storage buffers bound at 0..n−1; the uniform block, if any, is binding n.
 */
export function kernel(device: GPUDevice, key: string, storageBindings: number, source: () => string): Kernel {
  let cache = pipelines.get(device);
  if (!cache) {
    cache = new Map();
    pipelines.set(device, cache);
  }
  let k = cache.get(key);
  if (!k) {
    // A shader a device rejects yields an invalid pipeline whose dispatches do nothing: report it
    // loudly (console and kernelErrors()) rather than let a run go on with garbage.
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code: source(), label: key });
    const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' }, label: key });
    void device.popErrorScope().then((error) => {
      if (!error) return;
      errors.push(`${key}: ${error.message}`);
      console.error(`reward-lab WebGPU kernel ${key} failed to compile: ${error.message}`);
    });
    k = { pipeline, layout: pipeline.getBindGroupLayout(0), label: key, storageBindings };
    cache.set(key, k);
  }
  return k;
}

/** Messages of kernels the device rejected (empty when all compiled). */
export function kernelErrors(): readonly string[] {
  return errors;
}

/** Hooks for tests and benchmarks: called once per recorded dispatch. */
const dispatchListeners = new Set<(label: string) => void>();
export function onDispatch(listener: (label: string) => void): () => void {
  dispatchListeners.add(listener);
  return () => dispatchListeners.delete(listener);
}

/**
 * Records one dispatch of `k`. `buffers` are bound in order at 0..n−1 (all tensors must be
 * float32/int32 and live); `written` are those the kernel writes in place (their CPU-side cache,
 * if a read left one, is dropped so later reads see the new values).
 */
export function dispatch(
  b: WebGpuBackendInternals,
  k: Kernel,
  buffers: readonly tf.TensorInfo[],
  uniforms: UniformField[] | null,
  workgroups: readonly [number, number, number],
  written: readonly tf.TensorInfo[] = [],
): void {
  if (buffers.length !== k.storageBindings) {
    throw new Error(`${k.label}: ${buffers.length} buffers given, the kernel binds ${k.storageBindings}`);
  }
  const limit = b.device.limits.maxComputeWorkgroupsPerDimension;
  if (workgroups.some((n) => n > limit)) throw new Error(`${k.label}: dispatch ${workgroups.join('×')} exceeds ${limit} per dimension`);
  if (workgroups.some((n) => n === 0)) return;
  // Uploads first: an upload ends the current compute pass (it records a buffer copy).
  for (const t of buffers) b.uploadToGPU(t.dataId);
  const entries: GPUBindGroupEntry[] = buffers.map((t, i) => ({ binding: i, resource: { buffer: gpuBuffer(b, t) } }));
  if (uniforms) entries.push({ binding: buffers.length, resource: b.makeUniforms(uniforms) });
  const bindGroup = b.device.createBindGroup({ layout: k.layout, entries, label: k.label });
  for (const t of buffers) b.commandQueueOwnedIds.add(t.dataId);
  for (const t of written) {
    const data = b.tensorMap.get(t.dataId);
    if (data) data.values = null;
  }
  b.ensureCommandEncoderReady();
  if (!b.computePassEncoder) b.computePassEncoder = b.commandEncoder!.beginComputePass({});
  b.computePassEncoder.setPipeline(k.pipeline);
  b.computePassEncoder.setBindGroup(0, bindGroup);
  b.computePassEncoder.dispatchWorkgroups(workgroups[0], workgroups[1], workgroups[2]);
  b.dispatchCountInPass++;
  for (const listener of dispatchListeners) listener(k.label);
  if (b.dispatchCountInPass >= tf.env().getNumber('WEBGPU_DEFERRED_SUBMIT_BATCH_SIZE')) {
    b.endComputePassEncoder();
    b.submitQueue();
  }
}

function gpuBuffer(b: WebGpuBackendInternals, t: tf.TensorInfo): GPUBuffer {
  const resource = b.tensorMap.get(t.dataId)?.resource;
  if (!(resource instanceof GPUBuffer)) throw new Error('tensor has no GPU buffer (disposed, or a texture)');
  return resource;
}

/** A new float32 tensor's storage, on the GPU, for a kernel to write; wrap it with `toTensor`. */
export function allocate(b: WebGpuBackendInternals, shape: number[]): tf.TensorInfo {
  const info = b.makeTensorInfo(shape, 'float32');
  b.uploadToGPU(info.dataId);
  return info;
}

/** A tracked tensor (tidy-able, counted by tf.memory) owning `info`'s storage. */
export function toTensor<R extends tf.Rank>(b: WebGpuBackendInternals, info: tf.TensorInfo): tf.Tensor<R> {
  return tf.engine().makeTensorFromTensorInfo(info, b as unknown as tf.KernelBackend) as tf.Tensor<R>;
}

/** Whether `t`'s storage is referenced by no other tensor (so it may be written in place). */
export function ownsStorage(b: WebGpuBackendInternals, t: tf.TensorInfo): boolean {
  return b.refCount(t.dataId) === 1;
}
