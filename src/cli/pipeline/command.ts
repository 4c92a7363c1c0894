/**
 * `reward-lab pipeline plan|run|status|verify|pack CONFIG`: the companion that makes a new
 * embedding dataset on GPU machines (method.md §7), ending in files `reward-lab run --data` and
 * the app open directly. The GPU work runs in Python workers (pipeline/python/); this is the
 * orchestrator that plans, starts, feeds and monitors them.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';

import { diffPaths, PipelineConfigError, type PipelineConfig } from '../../core/pipelineConfig.ts';
import { formatPlan, PIPELINE_STEPS, planPipeline, selectSteps, type PipelineStep } from '../../core/pipelinePlan.ts';
import { PromptSourceError } from '../../core/pipelinePrompts.ts';
import { UsageError } from '../backend.ts';
import { buildRunConfig, loadPipelineConfig, paths, readRunConfig, stepStates, type RunConfig } from './layout.ts';
import { PackError, packRun } from './pack.ts';
import { planFacts, prepare, writePrepared } from './prepare.ts';
import { ProgressView } from './progressView.ts';
import { runStep, type StepOutcome } from './scheduler.ts';
import { formatStatus, runStatus } from './status.ts';
import { formatReport, verifyRun } from './verify.ts';

export const PIPELINE_USAGE = `reward-lab pipeline plan|run|status|verify|pack CONFIG [options]
                   make a new dataset on GPU machines: SFT, sampling, golden rewards, embeddings`;

const HELP = `reward-lab pipeline — the companion that makes an embedding dataset (method.md §7)

usage:
  reward-lab pipeline plan   CONFIG [--json]      validate the config; print steps, counts, disk and time estimates
  reward-lab pipeline run    CONFIG [--steps sft,sample,annotate,embed] [--quiet] [--prepare-only]
                             run the steps (default: all enabled ones), one worker per gpus entry;
                             finished shards are kept, so a rerun resumes; failed shards are retried.
                             --prepare-only writes OUT/run/config.json and the prompts, for workers
                             started by torchrun, accelerate or a Slurm array (see pipeline/README.md)
  reward-lab pipeline status CONFIG [--json]      per step and shard: done, stale, interrupted, pending
  reward-lab pipeline verify CONFIG [--json]      check counts, shapes, NaN/Inf, cuts and the train rank order
  reward-lab pipeline pack   CONFIG [--no-text] [--float16] [--quiet]
                             write OUT/packed/npy (embd_/reward_ .npy, (N,K,D)/(N,K,1)), OUT/packed/arrow
                             (train.arrow + test.arrow) and a manifest; open either with reward-lab run --data

CONFIG is a JSON file (see README, "Companion pipeline"); relative paths in it are taken from its folder.`;

class StaleError extends Error {}

function exitMessage(e: unknown): { code: number; message: string } | null {
  if (e instanceof PipelineConfigError) return { code: 2, message: e.message };
  if (e instanceof PromptSourceError) return { code: 2, message: `prompt source: ${e.message}` };
  if (e instanceof StaleError || e instanceof PackError) return { code: 1, message: e.message };
  if (e instanceof UsageError) return { code: 2, message: e.message };
  if (e instanceof RangeError && /step/.test(e.message)) return { code: 2, message: e.message };
  return null;
}

export async function pipelineCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === 'help' || sub === '--help' || sub === '-h') {
    process.stdout.write(`${HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      steps: { type: 'string' },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      'no-text': { type: 'boolean', default: false },
      float16: { type: 'boolean', default: false },
      'prepare-only': { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1) {
    process.stderr.write(`reward-lab pipeline: ${sub} needs exactly one CONFIG file, got ${positionals.length}\n\n${HELP}\n`);
    return 2;
  }
  try {
    const { config } = await loadPipelineConfig(positionals[0]);
    switch (sub) {
      case 'plan':
        return await planCommand(config, values.json ?? false);
      case 'run':
        return await runCommand(config, values.steps, values.quiet ?? false, values['prepare-only'] ?? false);
      case 'status':
        return await statusCommand(config, values.json ?? false);
      case 'verify':
        return await verifyCommand(config, values.json ?? false);
      case 'pack':
        return await packCommand(config, { text: !values['no-text'], float16: values.float16 ?? false, quiet: values.quiet ?? false });
      default:
        throw new UsageError(`unknown pipeline command "${sub}"; it is one of plan, run, status, verify, pack\n\n${HELP}`);
    }
  } catch (e) {
    const m = exitMessage(e);
    if (!m) throw e;
    process.stderr.write(`reward-lab pipeline: ${m.message}\n`);
    return m.code;
  }
}

async function planCommand(config: PipelineConfig, json: boolean): Promise<number> {
  const prepared = await prepare(config);
  const plan = planPipeline(config, await planFacts(config, prepared));
  if (json) {
    process.stdout.write(`${JSON.stringify({ counts: prepared.counts, ...plan }, null, 2)}\n`);
    return 0;
  }
  process.stdout.write(`${formatPlan(config, plan)}\n`);
  if (await readRunConfig(config.outputDir)) process.stdout.write(`\n${config.outputDir} already holds a run: \`reward-lab pipeline status\` shows what is done; run resumes it\n`);
  return 0;
}

/** Refuses to mix outputs of other settings with new ones, naming what changed. */
async function checkStale(run: RunConfig, previous: RunConfig | null): Promise<void> {
  const problems: string[] = [];
  for (const step of PIPELINE_STEPS) {
    if (step === 'sft' && !run.config.sft.enabled) continue;
    const stale = (await stepStates(run, step)).filter((s) => s.state.state === 'stale');
    if (stale.length > 0) problems.push(`${step}: ${stale.length} finished shard${stale.length === 1 ? '' : 's'} made under other settings`);
  }
  if (problems.length === 0) return;
  let changed = '';
  if (previous) {
    const ignore = /^(gpus|python|worker|retries|estimates|sampling\.(engine|batchSequences)|annotate\.batchSize|embed\.batchSize|name)(\.|$)/;
    const diffs = diffPaths(previous.config, run.config).filter((p) => !ignore.test(p));
    const prompts = (['train', 'test', 'demonstrations'] as const).filter((k) => previous.preparedHashes[k] !== run.preparedHashes[k]).map((k) => `the ${k} prompts' content`);
    const all = [...diffs, ...prompts];
    if (all.length > 0) changed = `\nchanged since those shards were made: ${all.join(', ')}`;
  }
  throw new StaleError(
    `${run.outputDir} holds results of other settings:\n  ${problems.join('\n  ')}${changed}\n` +
      `use another outputDir, restore the settings, or delete the stale step folders (and those of the steps after them) to redo them`,
  );
}

async function runCommand(config: PipelineConfig, stepList: string | undefined, quiet: boolean, prepareOnly: boolean): Promise<number> {
  const steps: PipelineStep[] = selectSteps(config, stepList);
  const prepared = await prepare(config);
  const run = buildRunConfig(config, prepared.counts, prepared.hashes);
  const previous = await readRunConfig(config.outputDir);
  await checkStale(run, previous);
  await writePrepared(config, prepared);
  const runPath = paths.runConfig(config.outputDir);
  await mkdir(dirname(runPath), { recursive: true });
  await writeFile(`${runPath}.partial`, `${JSON.stringify(run, null, 2)}\n`);
  await rename(`${runPath}.partial`, runPath);
  if (prepareOnly) {
    process.stderr.write(`wrote ${runPath} and the prepared prompts; start workers on it yourself (pipeline/README.md), then status/verify/pack\n`);
    return 0;
  }

  // A step needs its upstream complete, unless the upstream runs first in this same call.
  const upstream: Record<PipelineStep, PipelineStep | null> = { sft: null, sample: config.sft.enabled ? 'sft' : null, annotate: 'sample', embed: 'annotate' };
  for (const step of steps) {
    const up = upstream[step];
    if (up === null || steps.includes(up)) continue;
    const missing = (await stepStates(run, up)).filter((s) => s.state.state !== 'done');
    if (missing.length > 0) {
      throw new UsageError(`--steps ${steps.join(',')}: ${step} needs every ${up} shard done, but ${missing.length} are not; run --steps ${up} first (or include it)`);
    }
  }

  const view = new ProgressView(process.stderr, quiet);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const outcomes: StepOutcome[] = [];
  try {
    for (const step of steps) {
      const outcome = await runStep(run, step, { view, signal: controller.signal });
      outcomes.push(outcome);
      if (outcome.interrupted) {
        view.log(`\ninterrupted during ${step}: finished shards are kept; rerun the same command to resume`, true);
        return 130;
      }
      if (outcome.fatal.length > 0) {
        view.log(`${step}: no worker could start:\n  ${outcome.fatal.join('\n  ')}`, true);
        return 1;
      }
      if (outcome.failed.length > 0) {
        view.log(
          `${step}: ${outcome.failed.length} shard${outcome.failed.length === 1 ? '' : 's'} failed after ${config.retries + 1} attempts:\n` +
            outcome.failed.map((f) => `  ${f.key}: ${f.message}`).join('\n') +
            `\nworker logs: ${paths.logs(config.outputDir)}; rerun to retry them (finished shards are kept)`,
          true,
        );
        return 1;
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  const ran = outcomes.reduce((a, o) => a + o.ran, 0);
  view.log(`done: ${steps.join(', ')} (${ran} shard${ran === 1 ? '' : 's'} run now). Next: reward-lab pipeline verify … && reward-lab pipeline pack …`);
  return 0;
}

async function statusCommand(config: PipelineConfig, json: boolean): Promise<number> {
  const status = await runStatus(config.outputDir);
  if (!status) {
    process.stdout.write(json ? 'null\n' : `nothing run yet in ${config.outputDir}\n`);
    return 0;
  }
  process.stdout.write(json ? `${JSON.stringify(status, null, 2)}\n` : `${formatStatus(status)}\n`);
  return 0;
}

async function verifyCommand(config: PipelineConfig, json: boolean): Promise<number> {
  const report = await verifyRun(config.outputDir);
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : `${formatReport(report)}\n`);
  return report.errors.length === 0 ? 0 : 1;
}

async function packCommand(config: PipelineConfig, options: { text: boolean; float16: boolean; quiet: boolean }): Promise<number> {
  const log = (line: string) => {
    if (!options.quiet) process.stderr.write(`${line}\n`);
  };
  const { dir, manifest } = await packRun(config.outputDir, { text: options.text, float16: options.float16, log });
  const counts = manifest.counts as Record<string, { prompts: number; responsesPerPrompt: number; dim: number }>;
  log(`packed ${manifest.datasetId as string}: train ${counts.train.prompts} × ${counts.train.responsesPerPrompt}, test ${counts.test.prompts} × ${counts.test.responsesPerPrompt}, D ${counts.train.dim}`);
  log(`open it: reward-lab run --data ${dir}/arrow (or ${dir}/npy), or load the folder in the app`);
  return 0;
}
