import { CartesianGrid, LineChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import type { LegendEntry } from '../export/chartImage.ts';
import { num } from '../format.ts';
import { AXIS_LABEL, AXIS_STROKE, GRID_STROKE, TICK, yAxisStyle } from './axis.ts';
import { curveRows, extent, niceAxis, trainLossKey, valAccKey, valLossKey, type CurveSeries } from './data.ts';

export interface CurvesChartProps {
  id: string;
  metric: 'loss' | 'accuracy';
  series: readonly CurveSeries[];
  fileStem: string;
  subtitle?: string;
  /** The most epochs the run may take: while it trains, the axis already spans them. */
  maxEpochs?: number;
}

const HEIGHT = 220;

/** Per-epoch training curves: train and validation loss, or validation accuracy, one line per member. */
export function CurvesChart({ id, metric, series, fileStem, subtitle, maxEpochs }: CurvesChartProps) {
  const rows = curveRows(series);
  const isLoss = metric === 'loss';
  const keys = series.flatMap((_, i) => (isLoss ? [trainLossKey(i), valLossKey(i)] : [valAccKey(i)]));
  const [lo, hi] = extent(rows.flatMap((r) => keys.map((k) => r[k])));
  // A little headroom so a flat curve does not sit on the frame.
  const pad = (hi - lo) * 0.04;
  const y = niceAxis(lo - pad, hi + pad);
  const yTick = (v: number) => (isLoss ? String(v) : `${Number((v * 100).toPrecision(6))}%`);
  const lastEpoch = Math.max(rows[rows.length - 1]?.epoch ?? 1, maxEpochs ?? 1);
  const epochTicks = [1, ...niceAxis(0, lastEpoch, 5).ticks.filter((t) => t > 1 && t <= lastEpoch && Number.isInteger(t))];
  const legend: LegendEntry[] = series.flatMap((s): LegendEntry[] =>
    isLoss
      ? [
          { label: `${s.label} validation`, color: s.color, shape: 'line' },
          { label: `${s.label} train`, color: s.color, shape: 'line', dash: '4 3' },
        ]
      : [{ label: `${s.label} validation`, color: s.color, shape: 'line' }],
  );
  const columns = ['epoch', ...series.flatMap((s) => (isLoss ? [`${s.label} train loss`, `${s.label} val loss`] : [`${s.label} val accuracy`]))];
  const tableRows = rows.map((r) => [
    String(r.epoch),
    ...series.flatMap((_, i) => (isLoss ? [num(r[trainLossKey(i)], 4), num(r[valLossKey(i)], 4)] : [num(r[valAccKey(i)], 4)])),
  ]);
  return (
    <ChartFrame
      id={id}
      title={isLoss ? 'Loss per epoch' : 'Validation accuracy per epoch'}
      subtitle={subtitle}
      legend={legend}
      topic="bt"
      fileStem={fileStem}
      table={{ columns, rows: tableRows }}
    >
      <ResponsiveContainer width="100%" height={HEIGHT}>
        <LineChart data={rows} margin={{ top: 8, right: 20, bottom: 24, left: 12 }}>
          <CartesianGrid stroke={GRID_STROKE} />
          <XAxis
            dataKey="epoch"
            type="number"
            domain={[1, Math.max(2, lastEpoch)]}
            ticks={epochTicks}
            tick={TICK}
            stroke={AXIS_STROKE}
            label={{ value: 'epoch', position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
          />
          <YAxis
            {...yAxisStyle(isLoss ? 'BCE loss' : 'accuracy', y.ticks.map(yTick))}
            type="number"
            domain={y.domain}
            ticks={y.ticks}
            tickFormatter={yTick}
          />
          <Tooltip formatter={(v) => num(Number(v), 4)} labelFormatter={(e) => `epoch ${e}`} />
          {series.map((s, i) =>
            isLoss ? (
              [
                <Line key={`t${i}`} dataKey={trainLossKey(i)} name={`${s.label} train`} stroke={s.color} strokeDasharray="4 3" dot={false} isAnimationActive={false} />,
                <Line key={`v${i}`} dataKey={valLossKey(i)} name={`${s.label} validation`} stroke={s.color} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />,
              ]
            ) : (
              <Line key={`a${i}`} dataKey={valAccKey(i)} name={`${s.label} validation`} stroke={s.color} strokeWidth={2} dot={{ r: 2 }} isAnimationActive={false} />
            ),
          )}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
