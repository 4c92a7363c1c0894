import { Bar, CartesianGrid, ComposedChart, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import { num, pct } from '../format.ts';
import type { Histogram } from '../../worker/protocol.ts';
import { AXIS_LABEL, AXIS_STROKE, CHART_HEIGHT, GRID_STROKE, TICK, yAxisStyle } from './axis.ts';
import { histogramRows } from './data.ts';

const BAR = '#0b6bcb';
const MEAN = '#d55e00';

export interface SpearmanChartProps {
  id: string;
  histogram: Histogram;
  mean: number;
  median: number;
  fileStem: string;
}

/** Distribution over test prompts of the rank correlation between model scores and golden rewards. */
export function SpearmanChart({ id, histogram, mean, median, fileStem }: SpearmanChartProps) {
  const rows = histogramRows(histogram);
  return (
    <ChartFrame
      id={id}
      title="Spearman per test prompt"
      subtitle={`mean ${num(mean)}, median ${num(median)}: how well the scores order each prompt's responses`}
      legend={[
        { label: 'prompts per bin', color: BAR, shape: 'swatch' },
        { label: 'mean', color: MEAN, shape: 'line', dash: '5 3' },
      ]}
      topic="clf"
      fileStem={fileStem}
      table={{ columns: ['from', 'to', 'prompts', 'share'], rows: rows.map((r) => [num(r.lo, 2), num(r.hi, 2), String(r.count), pct(r.share)]) }}
    >
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ComposedChart data={rows} margin={{ top: 8, right: 20, bottom: 24, left: 12 }} barCategoryGap={1}>
          <CartesianGrid stroke={GRID_STROKE} vertical={false} />
          <XAxis
            dataKey="x"
            type="number"
            domain={[-1, 1]}
            ticks={[-1, -0.5, 0, 0.5, 1]}
            tick={TICK}
            stroke={AXIS_STROKE}
            label={{ value: 'Spearman ρ (scores vs golden rewards)', position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
          />
          <YAxis
            {...yAxisStyle('test prompts', [String(Math.max(...histogram.counts))])}
            allowDecimals={false}
          />
          <Tooltip formatter={(v) => [String(v), 'prompts']} labelFormatter={(x) => `ρ ≈ ${num(Number(x), 2)}`} />
          <Bar dataKey="count" fill={BAR} fillOpacity={0.75} isAnimationActive={false} />
          {Number.isFinite(mean) && <ReferenceLine x={mean} stroke={MEAN} strokeDasharray="5 3" strokeWidth={2} />}
        </ComposedChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
