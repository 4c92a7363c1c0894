import { CartesianGrid, ComposedChart, ErrorBar, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { canonicalJson, type AxisValue } from '../../core/sweep.ts';
import { AXIS_LABEL, AXIS_STROKE, CHART_HEIGHT, GRID_STROKE, TICK, yAxisStyle } from '../charts/axis.ts';
import { colorAt, extent, logTicks, niceAxis } from '../charts/data.ts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import type { LegendEntry } from '../export/chartImage.ts';
import { num, tick } from '../format.ts';
import { axisLabel, valueLabel } from './axes.ts';
import { xScale, type ChartLine } from './sweepData.ts';

export interface SweepChartProps {
  id: string;
  title: string;
  subtitle?: string;
  /** The swept field on x, and its values in the grid's order. */
  xAxis: string;
  xValues: readonly AxisValue[];
  lines: readonly ChartLine[];
  yLabel: string;
  fileStem: string;
}

type Row = { x: number | string } & Record<string, number | string | undefined>;

const meanKey = (i: number) => `m${i}`;
const errKey = (i: number) => `e${i}`;

/** A metric against one swept field: one line per combination of the other fields, error bars = ± std over seeds. */
export function SweepChart({ id, title, subtitle, xAxis, xValues, lines, yLabel, fileStem }: SweepChartProps) {
  const scale = xScale(xValues);
  const numeric = scale !== 'category';
  const rows: Row[] = xValues.map((x) => {
    const row: Row = { x: numeric ? (x as number) : valueLabel(xAxis, x) };
    lines.forEach((line, i) => {
      const p = line.points.find((q) => canonicalJson(q.x) === canonicalJson(x));
      if (!p) return;
      row[meanKey(i)] = p.mean;
      row[errKey(i)] = p.std;
    });
    return row;
  });
  const y = niceAxis(...extent(lines.flatMap((l) => l.points.map((p): [number, number] => [p.mean - p.std, p.mean + p.std]))));
  const nums = numeric ? (xValues as number[]) : [];
  const legend: LegendEntry[] = lines.map((l, i) => ({ label: l.label, color: colorAt(i), shape: 'line' }));
  const columns = [axisLabel(xAxis), ...lines.flatMap((l) => [`${l.label} mean`, `${l.label} std`, `${l.label} seeds`])];
  const tableRows = xValues.map((x) => [
    valueLabel(xAxis, x),
    ...lines.flatMap((l) => {
      const p = l.points.find((q) => canonicalJson(q.x) === canonicalJson(x));
      return p ? [num(p.mean), num(p.std), String(p.seeds)] : ['—', '—', '0'];
    }),
  ]);
  const xLabel = `${axisLabel(xAxis)}${scale === 'log' ? ' (log scale)' : ''}`;
  return (
    <ChartFrame id={id} title={title} subtitle={subtitle} legend={legend} fileStem={fileStem} table={{ columns, rows: tableRows }}>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ComposedChart data={rows} margin={{ top: 8, right: 24, bottom: 24, left: 12 }}>
          <CartesianGrid stroke={GRID_STROKE} />
          {numeric ? (
            <XAxis
              dataKey="x"
              type="number"
              scale={scale === 'log' ? 'log' : 'linear'}
              domain={[Math.min(...nums), Math.max(...nums)]}
              ticks={scale === 'log' ? [...new Set([...nums, ...logTicks(Math.min(...nums), Math.max(...nums))])].sort((a, b) => a - b) : nums}
              tickFormatter={tick}
              tick={TICK}
              stroke={AXIS_STROKE}
              padding={{ left: 16, right: 16 }}
              label={{ value: xLabel, position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
            />
          ) : (
            <XAxis dataKey="x" type="category" tick={TICK} stroke={AXIS_STROKE} padding={{ left: 24, right: 24 }} label={{ value: xLabel, position: 'insideBottom', offset: -14, ...AXIS_LABEL }} />
          )}
          <YAxis
            {...yAxisStyle(yLabel, y.ticks.map(tick))}
            type="number"
            domain={y.domain}
            ticks={y.ticks}
            tickFormatter={tick}
          />
          <Tooltip formatter={(v: unknown) => num(Number(v))} labelFormatter={(x) => `${axisLabel(xAxis)} = ${x}`} />
          {lines.map((l, i) => (
            // Categories (objectives, pairing modes) have no order between them: points and error bars only, no connecting line.
            <Line
              key={meanKey(i)}
              dataKey={meanKey(i)}
              name={l.label}
              stroke={numeric ? colorAt(i) : 'none'}
              strokeWidth={2}
              dot={numeric ? { r: 3 } : { r: 4.5, fill: colorAt(i), stroke: colorAt(i) }}
              isAnimationActive={false}
              connectNulls
            >
              <ErrorBar dataKey={errKey(i)} width={5} strokeWidth={1.5} stroke={colorAt(i)} direction="y" />
            </Line>
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
