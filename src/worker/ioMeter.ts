import type { ByteSource } from '../core/bytes.ts';
import type { IoStats } from './filesProtocol.ts';

/** A running total of bytes read, shared by the sources of one dataset. */
export class ByteCounter {
  bytes = 0;
}

/** A ByteSource that adds every byte it delivers to a counter: throughput for any format's reader. */
export class CountingSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly coalesceGapBytes?: number;

  constructor(
    private readonly inner: ByteSource,
    private readonly counter: ByteCounter,
  ) {
    this.name = inner.name;
    this.size = inner.size;
    this.coalesceGapBytes = inner.coalesceGapBytes;
  }

  async read(offset: number, length: number, signal?: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
    const bytes = await this.inner.read(offset, length, signal, into);
    this.counter.bytes += bytes.length;
    return bytes;
  }
}

const WINDOW_MS = 3000;

/**
 * Read throughput of one stage: bytes since the stage began, the rate over the last few
 * seconds (so a stall shows), rows per second and, when the total is known, the time left.
 */
export class IoMeter {
  private readonly start: number;
  private readonly samples: { t: number; bytes: number }[] = [];

  constructor(
    private readonly counter: ByteCounter,
    /** Bytes of one embedding row as stored (D × bytes per value); null: rows are not counted. */
    private readonly rowBytes: number | null,
    private readonly bytesTotal: number | null,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = counter.bytes;
    this.samples.push({ t: now(), bytes: 0 });
  }

  /** Bytes read since the meter started. */
  get bytesRead(): number {
    return this.counter.bytes - this.start;
  }

  stats(): IoStats {
    const t = this.now();
    const bytes = this.bytesRead;
    this.samples.push({ t, bytes });
    // Keep one sample at or before the window's start, so the rate always spans the window.
    while (this.samples.length > 2 && this.samples[1].t <= t - WINDOW_MS) this.samples.shift();
    const first = this.samples[0];
    const seconds = (t - first.t) / 1000;
    const bytesPerSecond = seconds > 0.05 ? (bytes - first.bytes) / seconds : null;
    const rowsPerSecond = bytesPerSecond !== null && this.rowBytes ? bytesPerSecond / this.rowBytes : null;
    const left = this.bytesTotal === null ? null : Math.max(0, this.bytesTotal - bytes);
    const etaSeconds = left === null || bytesPerSecond === null || bytesPerSecond <= 0 ? null : left / bytesPerSecond;
    return { bytesRead: bytes, bytesTotal: this.bytesTotal, bytesPerSecond, rowsPerSecond, etaSeconds };
  }
}
