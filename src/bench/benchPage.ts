/**
 * The bench page's entry (bench.html): installs `window.rewardLabBench` for the Node driver
 * (src/cli/benchBrowser.ts) to call through Playwright. It runs on the main thread: nothing else
 * shares the page, and `page.evaluate` can await it directly, so a worker would add only plumbing.
 */
import { paperSizeDataset } from '../core/benchDataset.ts';
import { SCORING_WORKLOAD_NAME, summarize, timeEndToEnd, timeScoring, timeTraining, trainingWorkloadName, type Measurement } from '../core/benchWorkloads.ts';
import { parseSpec } from '../core/spec.ts';
import { assertWebGpuKernelsValid } from '../kernels/webgpu/index.ts';
import { adamChecks, gemmChecks, reductionChecks, trainingChecks, uploadChecks, type CheckResult } from '../kernels/webgpu/testing/checks.ts';
import { activate, activeBackend } from './activate.ts';
import type { BenchJob, BenchRequest, BrowserBackend, RewardLabBench } from './protocol.ts';

const HOST = 'chromium';

async function ensureActive(backend: BrowserBackend): Promise<void> {
  if (activeBackend() === backend) return;
  const activation = await activate(backend);
  if (!activation.ok) throw new Error(`${backend} could not be activated: ${activation.error}`);
}

async function runJob(backend: BrowserBackend, job: BenchJob, runs: number): Promise<Measurement> {
  if (job.kind === 'train') {
    return summarize(HOST, backend, trainingWorkloadName(job.workload), 'pairs/s', await timeTraining(job.workload, runs));
  }
  return summarize(HOST, backend, SCORING_WORKLOAD_NAME, 'rows/s', await timeScoring(job.workload, runs));
}

const bench: RewardLabBench = {
  activate,
  async run(request: BenchRequest) {
    await ensureActive(request.backend);
    const measurements: Measurement[] = [];
    for (const job of request.jobs) measurements.push(await runJob(request.backend, job, request.runs));
    return measurements;
  },
  async kernelChecks(suites, tiles) {
    await ensureActive('webgpu');
    const results: CheckResult[] = [];
    const report = (r: CheckResult) => results.push(r);
    for (const suite of suites) {
      if (suite === 'gemm') await gemmChecks(report, tiles);
      else await { reduce: reductionChecks, adam: adamChecks, train: trainingChecks, upload: uploadChecks }[suite](report);
    }
    assertWebGpuKernelsValid();
    return results;
  },
  async endToEnd(request) {
    await ensureActive(request.backend);
    const spec = request.spec === undefined ? undefined : parseSpec(request.spec);
    const result = await timeEndToEnd(paperSizeDataset(request.dataset), undefined, spec);
    if (request.backend === 'webgpu') assertWebGpuKernelsValid();
    return result;
  },
};

window.rewardLabBench = bench;
