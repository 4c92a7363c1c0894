/** `reward-lab pipeline status`: per step and split, which shards are done, stale, interrupted or pending. */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { PIPELINE_STEPS, type PipelineStep } from '../../core/pipelinePlan.ts';
import { paths, readRunConfig, stepStates, type RunConfig, type ShardState } from './layout.ts';

export interface StepStatus {
  step: PipelineStep;
  total: number;
  done: number;
  stale: number;
  partial: number;
  pending: number;
  /** Per split, with the shards not done written as ranges. */
  splits: Record<string, { total: number; done: number; notDone: string }>;
  seconds: number;
}

export interface RunStatus {
  outputDir: string;
  counts: RunConfig['counts'];
  steps: StepStatus[];
  packed: { createdAt: string } | null;
}

/** [0,1,2,5,7,8] → "00000–00002, 00005, 00007–00008" */
export function ranges(indices: number[]): string {
  const pad = (i: number) => String(i).padStart(5, '0');
  const parts: string[] = [];
  for (let i = 0; i < indices.length; ) {
    let j = i;
    while (j + 1 < indices.length && indices[j + 1] === indices[j] + 1) j++;
    parts.push(i === j ? pad(indices[i]) : `${pad(indices[i])}–${pad(indices[j])}`);
    i = j + 1;
  }
  return parts.join(', ');
}

export async function runStatus(out: string): Promise<RunStatus | null> {
  const run = await readRunConfig(out);
  if (!run) return null;
  const steps: StepStatus[] = [];
  for (const step of PIPELINE_STEPS) {
    if (step === 'sft' && !run.config.sft.enabled) continue;
    const states = await stepStates(run, step);
    const count = (k: ShardState['state']) => states.filter((s) => s.state.state === k).length;
    const splits: StepStatus['splits'] = {};
    for (const split of new Set(states.map((s) => s.shard.split))) {
      const mine = states.filter((s) => s.shard.split === split);
      const notDone = mine.filter((s) => s.state.state !== 'done');
      const label = (kind: ShardState['state']) => {
        const idx = notDone.filter((s) => s.state.state === kind).map((s) => s.shard.index);
        return idx.length > 0 ? `${kind} ${ranges(idx)}` : '';
      };
      splits[split] = {
        total: mine.length,
        done: mine.length - notDone.length,
        notDone: (['stale', 'partial', 'pending'] as const).map(label).filter(Boolean).join('; '),
      };
    }
    const seconds = states.reduce((a, s) => a + (s.state.state === 'done' ? (s.state.marker.seconds ?? 0) : 0), 0);
    steps.push({ step, total: states.length, done: count('done'), stale: count('stale'), partial: count('partial'), pending: count('pending'), splits, seconds });
  }
  let packed: RunStatus['packed'];
  try {
    const m = JSON.parse(await readFile(join(paths.packed(out), 'manifest.json'), 'utf8')) as { createdAt: string };
    packed = { createdAt: m.createdAt };
  } catch {
    packed = null;
  }
  return { outputDir: out, counts: run.counts, steps, packed };
}

export function formatStatus(s: RunStatus): string {
  const lines = [`pipeline output ${s.outputDir}`];
  lines.push(`  prompts   train ${s.counts.train.toLocaleString('en-US')}, test ${s.counts.test.toLocaleString('en-US')}${s.counts.demonstrations > 0 ? `, demonstrations ${s.counts.demonstrations.toLocaleString('en-US')}` : ''}`);
  for (const st of s.steps) {
    const state = st.done === st.total ? 'done' : st.done === 0 && st.partial === 0 && st.stale === 0 ? 'not started' : 'incomplete';
    const extra = [st.stale ? `${st.stale} stale` : '', st.partial ? `${st.partial} interrupted` : '', st.pending ? `${st.pending} pending` : ''].filter(Boolean).join(', ');
    lines.push(`  ${st.step.padEnd(9)} ${state.padEnd(11)} ${st.done}/${st.total} shards${extra ? ` (${extra})` : ''}${st.seconds > 0 ? `, ${Math.round(st.seconds)}s of worker time` : ''}`);
    for (const [split, v] of Object.entries(st.splits)) {
      if (v.notDone) lines.push(`  ${''.padEnd(9)}   ${split}: ${v.done}/${v.total} done; ${v.notDone}`);
    }
  }
  lines.push(`  packed    ${s.packed ? `yes, ${s.packed.createdAt} (${paths.packed(s.outputDir)})` : 'no'}`);
  return lines.join('\n');
}
