/// <reference types="@webgpu/types" />
import * as tf from '@tensorflow/tfjs';
import type { ChunkUploads } from '../../core/fastOps.ts';
import type { WebGpuBackendInternals } from './device.ts';

/**
 * Scoring's chunk uploads (core/fastOps.ts ChunkUploads) through two reused pairs of buffers: a
 * staging buffer, mapped for writing, that the store reads each chunk straight into, and a
 * storage buffer that the GPU copies it to and the chunk's tensor uses as is (tfjs zeroCopy).
 *
 * tfjs's own way in (tf.tensor2d on a host array, uploaded at first use) creates a staging
 * buffer per tensor and destroys it after the copy: for each 64 MB chunk a fresh allocation,
 * its zeroing and one more copy, after the read into the host array. On Node + Dawn over
 * SwiftShader that cost ~90 ms per 8,192 × 2,048 chunk against ~30 ms here; on an H200 it was
 * most of the time to result (README, Benchmarks).
 */
export function mappedChunkUploads(backend: WebGpuBackendInternals, floats: number): ChunkUploads {
  const device = backend.device;
  const bytes = floats * Float32Array.BYTES_PER_ELEMENT;
  const slots: Slot[] = [0, 1].map(() => ({
    staging: device.createBuffer({ size: bytes, usage: GPUBufferUsage.MAP_WRITE | GPUBufferUsage.COPY_SRC, mappedAtCreation: true }),
    storage: device.createBuffer({ size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST }),
    mapped: Promise.resolve(),
    view: null,
  }));
  let disposed = false;

  return {
    async memory(index, length) {
      const slot = slots[index % 2];
      await slot.mapped;
      if (disposed) throw new Error('chunk uploads were disposed');
      // A mapped range can be taken once per mapping.
      slot.view ??= new Float32Array(slot.staging.getMappedRange());
      return slot.view.subarray(0, length);
    },

    toTensor(index, data, rows, dim) {
      const slot = slots[index % 2];
      const view = slot.view;
      const length = rows * dim;
      if (view === null) throw new Error(`chunk ${index} was not given upload memory before its upload`);
      if (length > view.length) throw new RangeError(`chunk ${index}: ${rows} × ${dim} values exceed the ${view.length} of its upload memory`);
      if (data.length < length) throw new RangeError(`chunk ${index}: the read returned ${data.length} values, not ${rows} × ${dim}`);
      if (data.buffer !== view.buffer || data.byteOffset !== view.byteOffset) view.set(data.subarray(0, length));
      slot.view = null;
      slot.staging.unmap();
      // Recorded in tfjs's own encoder, as tfjs records its uploads: ordered with its work.
      backend.ensureCommandEncoderReady();
      backend.endComputePassEncoder();
      backend.commandEncoder!.copyBufferToBuffer(slot.staging, 0, slot.storage, 0, length * Float32Array.BYTES_PER_ELEMENT);
      // Mapping a buffer that an unsubmitted command reads makes that submit invalid: submit first.
      backend.submitQueue();
      slot.mapped = slot.staging.mapAsync(GPUMapMode.WRITE);
      // Awaited by the next memory() for this slot; a failure there is that call's error.
      slot.mapped.catch(() => {});
      return tf.tensor({ buffer: slot.storage, zeroCopy: true }, [rows, dim], 'float32') as tf.Tensor2D;
    },

    dispose() {
      disposed = true;
      // A pending mapAsync is aborted by destroy (its rejection is caught above); commands
      // already submitted keep their buffers until they finish.
      for (const slot of slots) {
        slot.view = null;
        slot.staging.destroy();
        slot.storage.destroy();
      }
    },
  };
}

interface Slot {
  staging: GPUBuffer;
  storage: GPUBuffer;
  /** Settles once `staging` is mapped for writing (after the copy out of it has run). */
  mapped: Promise<void>;
  /** The mapped range, once handed out and until the upload. */
  view: Float32Array | null;
}
