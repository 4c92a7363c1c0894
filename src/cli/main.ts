import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { isCancelled } from '../core/cancel.ts';
import { DatasetQuestionError } from '../core/npyDataset.ts';
import type { Dataset } from '../core/dataset.ts';
import { datasetFromSpec, runExperiment } from '../core/experiment.ts';
import { PRESETS, type PresetName } from '../core/presets.ts';
import { bindFilesDataset, parseSpec, SpecError, type ExperimentSpec } from '../core/spec.ts';
import { parseBackend, UsageError, activateBackend } from './backend.ts';
import { runBench } from './bench.ts';
import { openDataDirectory } from './dataDirectory.ts';
import { byteSizeFlag, layoutFlag } from './flags.ts';
import { explainQuestions } from './npyDataset.ts';
import { PACK_USAGE, packCommand } from './pack.ts';
import { PIPELINE_USAGE, pipelineCommand } from './pipeline/command.ts';
import { progressPrinter } from './progressLine.ts';
import { mergeCommand, sweepCommand } from './sweep.ts';
import { assertWebGpuKernelsValid } from '../kernels/webgpu/index.ts';

const USAGE = `Reward Lab — reward-model experiments on precomputed embeddings

usage:
  reward-lab run   [--spec FILE | --preset NAME] [--data DIR [--layout NKD|KND]] [--out FILE] [--backend wasm|cpu]
                   [--memory-cap SIZE] [--quiet]
  reward-lab spec  [--preset NAME]          print a complete spec (all defaults filled in)
  reward-lab bench [--backends node:wasm,chromium:wasm,…] [--batches 512,10240] [--runs N] [--rounds R] [--e2e]
                   [--pairs-per-prompt N] [--compare-torch [--python PATH]] [--webgpu-kernels stock,fused,TILE…]
                   [--json FILE]
                   time training and scoring on every backend found (README: Benchmarks)
  ${PACK_USAGE}
                   convert a .npy folder to train.arrow + test.arrow (optionally subsampled, float16)
  reward-lab sweep --spec GRID.json --out DIR [--shard i/n] [--data DIR [--layout NKD|KND]] [--backend wasm|cpu]
                   [--memory-cap SIZE] [--quiet]
                   run one shard of a grid; finished cells land in DIR/cells/ and are skipped on rerun;
                   cells on one dataset share passes over its test split
  reward-lab merge DIR... [--out FILE]
                   combine the cells of shard folders into one result set (DIR/sweep-result.json)
  ${PIPELINE_USAGE}

run:
  --spec FILE     an ExperimentSpec as JSON; omitted fields take the paper's defaults
  --preset NAME   start from a named spec instead: ${Object.keys(PRESETS).join(', ')}
  --data DIR      a folder with train/test .npy pairs (embd_*_train.npy + reward_*_train.npy, …)
                  or a packed one (train.arrow + test.arrow);
                  without it the spec's demo dataset is generated
  --layout L      how the .npy files are laid out, when their names and shapes do not settle it:
                  NKD (N, K, D), KND (K, N, D), or per split, e.g. train=KND,test=NKD
  --memory-cap S  most embedding bytes held at once (training rows, one scoring chunk), e.g. 512MiB;
                  default 1GiB
  --out FILE      write the result JSON there (default: stdout)
  --backend NAME  tfjs backend: wasm (default) or cpu
progress goes to stderr; Ctrl-C cancels cleanly.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `reward-lab run --help` and the like: the usage, not an unknown-option error (pipeline has its own).
  if (command !== 'pipeline' && (rest.includes('--help') || rest.includes('-h'))) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  switch (command) {
    case 'run':
      return runCommand(rest);
    case 'spec':
      return specCommand(rest);
    case 'bench':
      return runBench(rest);
    case 'pack':
      return packCommand(rest);
    case 'sweep':
      return sweepCommand(rest, openDataDirectory);
    case 'merge':
      return mergeCommand(rest);
    case 'pipeline':
      return pipelineCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

async function loadSpec(specPath: string | undefined, preset: string | undefined): Promise<ExperimentSpec> {
  if (specPath && preset) throw new UsageError('give either --spec or --preset, not both');
  if (preset) {
    if (!(preset in PRESETS)) throw new UsageError(`unknown preset "${preset}"; known: ${Object.keys(PRESETS).join(', ')}`);
    return PRESETS[preset as PresetName]();
  }
  if (!specPath) return parseSpec({});
  let text: string;
  try {
    text = await readFile(specPath, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read spec file ${specPath}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`spec file ${specPath} is not valid JSON: ${(e as Error).message}`);
  }
  return parseSpec(json);
}

async function runCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      spec: { type: 'string' },
      preset: { type: 'string' },
      data: { type: 'string' },
      out: { type: 'string' },
      backend: { type: 'string' },
      layout: { type: 'string' },
      'memory-cap': { type: 'string' },
      quiet: { type: 'boolean', default: false },
    },
    strict: true,
  });
  let spec = await loadSpec(values.spec, values.preset);
  const memoryCapBytes = byteSizeFlag(values['memory-cap'], '--memory-cap');
  const backendName = parseBackend(values.backend);

  let dataset: Dataset;
  let close = async () => {};
  if (values.data) {
    const opened = await openDataDirectory(values.data, { layout: layoutFlag(values.layout) });
    dataset = opened;
    close = () => opened.close();
    spec = bindFilesDataset(spec, opened.info.id);
  } else {
    const demo = datasetFromSpec(spec);
    if (!demo) {
      throw new UsageError(`the spec names the file dataset "${spec.dataset.kind === 'files' ? spec.dataset.id : ''}": pass its folder with --data DIR`);
    }
    dataset = demo;
  }

  const controller = new AbortController();
  const onSigint = () => controller.abort();
  process.once('SIGINT', onSigint);
  try {
    const backend = await activateBackend(backendName);
    const result = await runExperiment(spec, dataset, {
      backend,
      signal: controller.signal,
      memoryCapBytes,
      onProgress: progressPrinter(process.stderr, values.quiet),
    });
    assertWebGpuKernelsValid();
    const json = `${JSON.stringify(result, null, 2)}\n`;
    if (values.out) {
      await writeFile(values.out, json);
      if (!values.quiet) {
        const s = result.summary;
        process.stderr.write(
          `wrote ${values.out}: BoN-${result.dataset.test.responsesPerPrompt} improvement ${s.improvement.mean.toFixed(3)} ± ${s.improvement.std.toFixed(3)}, ` +
            `Spearman ${s.spearman.mean.toFixed(3)} ± ${s.spearman.std.toFixed(3)}, label errors ${(s.labelErrorRate.mean * 100).toFixed(1)}%; ` +
            `peak RSS ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB\n`,
        );
      }
    } else {
      process.stdout.write(json);
    }
    return 0;
  } catch (e) {
    if (isCancelled(e)) {
      process.stderr.write('\ncancelled\n');
      return 130;
    }
    throw e;
  } finally {
    process.off('SIGINT', onSigint);
    await close();
  }
}

async function specCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { preset: { type: 'string' } }, strict: true });
  process.stdout.write(`${JSON.stringify(await loadSpec(undefined, values.preset ?? 'paper'), null, 2)}\n`);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof DatasetQuestionError) {
      process.stderr.write(`reward-lab: ${explainQuestions(error)}\n`);
      process.exitCode = 2;
    } else if (error instanceof SpecError) {
      process.stderr.write(`reward-lab: ${error.message}\n`);
      process.exitCode = 2;
    } else if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`reward-lab: ${(error as Error).message}\n\n${USAGE}\n`);
      process.exitCode = 2;
    } else {
      process.stderr.write(`reward-lab: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    }
  },
);
