import { CartesianGrid, Line, LineChart, ReferenceDot, ReferenceLine, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import { pct, tick } from '../format.ts';
import type { LabelNoisePoint } from '../../worker/protocol.ts';
import { AXIS_LABEL, AXIS_STROKE, GRID_STROKE, TICK, yAxisStyle } from './axis.ts';
import { logTicks, noiseRows } from './data.ts';

const CURVE = '#6b4fbb';
const NOW = '#d55e00';

export interface NoiseChartProps {
  points: readonly LabelNoisePoint[];
  beta: number;
  scale: number;
  fileStem: string;
}

/** Expected share of flipped labels against β on this dataset, with the current β marked. */
export function NoiseChart({ points, beta, scale, fileStem }: NoiseChartProps) {
  const rows = noiseRows(points);
  const lo = rows[0]?.beta ?? 0.1;
  const hi = rows[rows.length - 1]?.beta ?? 30;
  const current = beta > 0 ? rows.find((r) => r.beta === beta) : undefined;
  return (
    <ChartFrame
      id="chart-noise"
      title="Annotator noise vs β"
      subtitle={`expected label-error rate of random same-prompt pairs, s = ${scale.toPrecision(3)}`}
      legend={[
        { label: 'expected label error', color: CURVE, shape: 'line' },
        { label: beta > 0 ? `your β = ${beta}` : 'your β < 0: perfect annotator', color: NOW, shape: 'line', dash: '4 3' },
      ]}
      topic="beta"
      fileStem={fileStem}
      table={{ columns: ['β', 'expected label error'], rows: rows.map((r) => [String(r.beta), pct(r.error, 2)]) }}
    >
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={rows} margin={{ top: 8, right: 20, bottom: 24, left: 12 }}>
          <CartesianGrid stroke={GRID_STROKE} />
          <XAxis
            dataKey="beta"
            type="number"
            scale="log"
            domain={[lo, hi]}
            ticks={logTicks(lo, hi)}
            tickFormatter={tick}
            tick={TICK}
            stroke={AXIS_STROKE}
            allowDataOverflow
            label={{ value: 'β (log scale)', position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
          />
          <YAxis
            {...yAxisStyle('label errors', ['50%'])}
            domain={[0, 0.5]}
            ticks={[0, 0.1, 0.2, 0.3, 0.4, 0.5]}
            tickFormatter={(v: number) => `${Math.round(v * 100)}%`}
          />
          <Tooltip formatter={(v) => pct(Number(v))} labelFormatter={(b) => `β = ${b}`} />
          <Line dataKey="error" name="expected label error" stroke={CURVE} strokeWidth={2} dot={false} isAnimationActive={false} />
          {beta > 0 && beta >= lo && beta <= hi && <ReferenceLine x={beta} stroke={NOW} strokeDasharray="4 3" strokeWidth={1.5} />}
          {current && <ReferenceDot x={current.beta} y={current.error} r={4} fill={NOW} stroke="#fff" />}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
