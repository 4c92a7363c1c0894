/**
 * `reward-lab pipeline pack`: joins the verified shards into the published layouts:
 *
 *   OUT/packed/npy/embd_{generator}_{embedder}_{task}_{split}.npy   (N, K, D) float32
 *   OUT/packed/npy/reward_{generator}_{embedder}_{task}_{split}.npy (N, K, 1) float32
 *   OUT/packed/arrow/{train,test}.arrow   Reward Lab's Arrow streams, with prompt/response text
 *   OUT/packed/manifest.json (also in npy/ and arrow/)   models, revisions, seeds, counts
 *
 * Embeddings are copied shard by shard (never held whole); the Arrow files are written by the
 * engine's `writeArrowSplit` from the .npy files just written, and read back before they get
 * their final names. prompt_id is the prompt's row in its source file, so skipped prompts leave
 * gaps. Train responses are in rank order (annotate sorted them).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

import { openArrowSplit, writeArrowSplit, type ArrowSplitDescription } from '../../core/arrowFormat.ts';
import { datasetStem, generatorTag, modelTag, type PipelineSplit } from '../../core/pipelineConfig.ts';
import { ENGINE_VERSION } from '../../core/version.ts';
import { FileSource } from '../fileSource.ts';
import { openNpyDirectory } from '../npyDataset.ts';
import { paths, readDone, readRunConfig, type RunConfig } from './layout.ts';
import { npyHeaderBytes, openNpy } from './npyFiles.ts';
import { verifyRun } from './verify.ts';

export const PIPELINE_MANIFEST_FORMAT = 'reward-lab.pipeline-manifest/1';

export class PackError extends Error {}

interface SplitText {
  ids: number[];
  prompts: string[];
  responses: string[];
}

async function readAnnotated(run: RunConfig, split: PipelineSplit, withText: boolean): Promise<SplitText> {
  const out: SplitText = { ids: [], prompts: [], responses: [] };
  for (let index = 0; index < run.shards[split].length; index++) {
    const text = await readFile(join(paths.shardDir(run.outputDir, 'annotate', split, index), 'responses.jsonl'), 'utf8');
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const row = JSON.parse(line) as { id: number; prompt: string; responses: string[] };
      out.ids.push(row.id);
      if (!withText) continue;
      out.prompts.push(row.prompt);
      for (const r of row.responses) out.responses.push(r);
    }
  }
  return out;
}

/** Concatenates the shards' (n_i, …rest) arrays into one (Σn_i, …rest) file, streaming. */
async function concatNpy(sources: string[], rest: number[], dest: string, reshape?: number[]): Promise<number[]> {
  let total = 0;
  for (const s of sources) {
    const npy = await openNpy(s);
    total += npy.header.shape[0];
    await npy.source.close();
  }
  const shape = [total, ...(reshape ?? rest)];
  const partial = `${dest}.partial`;
  async function* bytes(): AsyncGenerator<Uint8Array> {
    yield npyHeaderBytes(shape);
    for (const s of sources) {
      const npy = await openNpy(s);
      try {
        if (npy.header.dtype !== 'float32') throw new PackError(`${s}: dtype ${npy.header.dtype}; the shards are float32`);
        const chunk = 16 << 20;
        for (let at = 0; at < npy.header.dataBytes; at += chunk) {
          yield await npy.source.read(npy.header.dataOffset + at, Math.min(chunk, npy.header.dataBytes - at));
        }
      } finally {
        await npy.source.close();
      }
    }
  }
  try {
    await pipeline(bytes(), createWriteStream(partial));
    await rename(partial, dest);
  } catch (e) {
    await rm(partial, { force: true });
    throw e;
  }
  return shape;
}

export interface PackOptions {
  text: boolean;
  float16: boolean;
  log: (line: string) => void;
}

export async function packRun(out: string, options: PackOptions): Promise<{ dir: string; manifest: Record<string, unknown> }> {
  const run = await readRunConfig(out);
  if (!run) throw new PackError(`nothing to pack: ${paths.runConfig(out)} is missing (run the pipeline first)`);
  const report = await verifyRun(out, { packed: false });
  if (report.errors.length > 0) {
    throw new PackError(`the shards do not verify; fix these first (reward-lab pipeline verify):\n${report.errors.map((e) => `  - ${e}`).join('\n')}`);
  }
  const config = run.config;
  const stem = datasetStem(config);
  const root = paths.packed(out);
  const npyDir = join(root, 'npy');
  const arrowDir = join(root, 'arrow');
  await rm(root, { recursive: true, force: true });
  await mkdir(npyDir, { recursive: true });
  await mkdir(arrowDir, { recursive: true });

  const files: Array<Record<string, unknown>> = [];
  const texts = {} as Record<PipelineSplit, SplitText>;
  for (const split of ['train', 'test'] as const) {
    const s = report.splits[split];
    if (!s || s.dim === null) throw new PackError(`${split}: no embeddings to pack`);
    const k = s.responsesPerPrompt;
    const shardDirs = run.shards[split].map((_, i) => i);
    const emb = join(npyDir, `embd_${stem}_${split}.npy`);
    const rew = join(npyDir, `reward_${stem}_${split}.npy`);
    const embShape = await concatNpy(shardDirs.map((i) => join(paths.shardDir(out, 'embed', split, i), 'embeddings.npy')), [k, s.dim], emb);
    const rewShape = await concatNpy(shardDirs.map((i) => join(paths.shardDir(out, 'annotate', split, i), 'rewards.npy')), [k], rew, [k, 1]);
    files.push({ file: `npy/embd_${stem}_${split}.npy`, shape: embShape, bytes: (await stat(emb)).size });
    files.push({ file: `npy/reward_${stem}_${split}.npy`, shape: rewShape, bytes: (await stat(rew)).size });
    options.log(`wrote npy/embd_${stem}_${split}.npy (${embShape.join(' × ')}) and npy/reward_${stem}_${split}.npy`);
    texts[split] = await readAnnotated(run, split, options.text);
  }

  const models = await modelRecords(run);
  const source = await openNpyDirectory(npyDir, { layout: 'NKD' });
  try {
    for (const split of ['train', 'test'] as const) {
      const file = `${split}.arrow`;
      const dest = join(arrowDir, file);
      const t = texts[split];
      const desc: ArrowSplitDescription = {
        split,
        task: config.task,
        datasetId: stem,
        generator: generatorTag(config),
        embedder: modelTag(config.models.embedder),
        goldenRewardModel: config.models.goldenRm.id,
        promptIds: Int32Array.from(t.ids),
        ...(options.text ? { text: { prompts: t.prompts, responses: t.responses } } : {}),
      };
      const partial = `${dest}.partial`;
      try {
        await pipeline(writeArrowSplit(source[split], desc, { float16: options.float16 }), createWriteStream(partial));
        const src = await FileSource.open(partial);
        let batches: number;
        try {
          const back = await openArrowSplit(src);
          if (back.prompts !== source[split].prompts || back.responsesPerPrompt !== source[split].responsesPerPrompt) {
            throw new PackError(`${file} reads back as ${back.prompts}×${back.responsesPerPrompt}, not ${source[split].prompts}×${source[split].responsesPerPrompt}`);
          }
          batches = back.embeddings.batchCount;
        } finally {
          await src.close();
        }
        await rename(partial, dest);
        files.push({ file: `arrow/${file}`, bytes: (await stat(dest)).size, recordBatches: batches, embeddingDtype: options.float16 ? 'float16' : 'float32', text: options.text });
        options.log(`wrote arrow/${file} (${source[split].prompts} prompts × ${source[split].responsesPerPrompt})`);
      } catch (e) {
        await rm(partial, { force: true });
        throw e;
      }
    }
  } finally {
    await source.close();
  }

  const counts = Object.fromEntries(
    (['train', 'test'] as const).map((split) => {
      const s = report.splits[split]!;
      return [split, { sourcePrompts: run.counts[split], skipped: s.skipped, prompts: s.prompts, responsesPerPrompt: s.responsesPerPrompt, rows: s.prompts * s.responsesPerPrompt, dim: s.dim, rankSorted: split === 'train' }];
    }),
  );
  const manifest = {
    format: PIPELINE_MANIFEST_FORMAT,
    producer: `reward-lab ${ENGINE_VERSION}`,
    createdAt: new Date().toISOString(),
    name: config.name ?? stem,
    datasetId: stem,
    task: config.task,
    models,
    prompts: {
      train: config.prompts.train.path,
      test: config.prompts.test.path,
      template: config.prompts.template,
      sha256: run.preparedHashes,
    },
    seeds: {
      seed: config.seed,
      derivation: 'sampling seeds are sha256([seed, "sample", split, prompt id(, chunk)]) → 31 bits, per prompt (vLLM) or per generate call (transformers, keyed by its first prompt)',
    },
    settings: { sft: config.sft, sampling: config.sampling, annotate: config.annotate, embed: config.embed, shardResponses: config.shardResponses },
    counts: { ...counts, demonstrations: run.counts.demonstrations },
    fingerprints: run.fingerprints,
    files,
  };
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  for (const dir of [root, npyDir, arrowDir]) await writeFile(join(dir, 'manifest.json'), text);
  return { dir: root, manifest };
}

/** Models as recorded: config id and revision, the commit the workers resolved, the engine. */
async function modelRecords(run: RunConfig): Promise<Record<string, unknown>> {
  const out = run.outputDir;
  const first = async (step: 'sample' | 'annotate' | 'embed') => readDone(paths.shardDir(out, step, 'train', 0));
  const sample = await first('sample');
  const annotate = await first('annotate');
  const embed = await first('embed');
  const sft = run.config.sft.enabled ? await readDone(paths.shardDir(out, 'sft', 'all', 0)) : null;
  const c = run.config.models;
  const rec = (ref: { id: string; revision?: string }, marker: typeof sample, extra: Record<string, unknown> = {}) => ({
    id: ref.id,
    revision: ref.revision ?? null,
    commit: marker?.model?.commit ?? null,
    ...extra,
  });
  return {
    generator: rec(c.generator, sft ?? sample, {
      tag: generatorTag(run.config),
      sft: run.config.sft.enabled ? { path: run.generatorPath, steps: sft?.steps ?? null, trainLoss: sft?.train_loss ?? null } : null,
      engine: sample?.engine ?? null,
    }),
    goldenRm: rec(c.goldenRm, annotate),
    embedder: rec(c.embedder, embed, { tag: modelTag(c.embedder), dim: embed?.dim ?? null }),
  };
}
