import { Area, CartesianGrid, ComposedChart, Line, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import type { LegendEntry } from '../export/chartImage.ts';
import { num, tick } from '../format.ts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import { AXIS_LABEL, AXIS_STROKE, CHART_HEIGHT, GRID_STROKE, TICK, yAxisStyle } from './axis.ts';
import { bonBandKey, bonMeanKey, bonRows, extent, niceAxis, ORACLE_COLOR, RANDOM_COLOR, type BonData, type BonSeries } from './data.ts';

export interface BonChartProps {
  id: string;
  title: string;
  subtitle?: string;
  series: readonly BonSeries[];
  /** Oracle and random-pick curves; null when the series do not share one test set. */
  references: BonData | null;
  fileStem: string;
}

/** Golden reward of the model's pick against N on a log axis, mean ± std band per series. */
export function BonChart({ id, title, subtitle, series, references, fileStem }: BonChartProps) {
  const rows = bonRows(series, references);
  const ns = rows.map((r) => r.n);
  const y = niceAxis(...extent(rows.flatMap((r) => Object.entries(r).filter(([k]) => k !== 'n').map(([, v]) => v))));
  const legend: LegendEntry[] = series.map((s): LegendEntry => ({ label: s.label, color: s.color, shape: 'line' }));
  // One band entry for all series: the band's colour already says whose it is.
  legend.push({ label: 'band: ± std over repeats', color: series.length === 1 ? series[0].color : '#8a94a6', shape: 'swatch' });
  if (references) {
    legend.push({ label: 'oracle (golden reward picks)', color: ORACLE_COLOR, shape: 'line', dash: '6 4' });
    legend.push({ label: 'random pick (no reward model)', color: RANDOM_COLOR, shape: 'line', dash: '2 3' });
  }
  const columns = ['N', ...series.flatMap((s) => [`${s.label} mean`, `${s.label} std`]), ...(references ? ['oracle', 'random'] : [])];
  const tableRows = rows.map((r) => [
    String(r.n),
    ...series.flatMap((_, i) => {
      const mean = r[bonMeanKey(i)];
      const band = r[bonBandKey(i)];
      return [typeof mean === 'number' ? num(mean) : '—', Array.isArray(band) ? num((band[1] - band[0]) / 2) : '—'];
    }),
    ...(references ? [num(r.oracle as number | undefined), num(r.random as number | undefined)] : []),
  ]);
  return (
    <ChartFrame id={id} title={title} subtitle={subtitle} legend={legend} topic="bon" fileStem={fileStem} table={{ columns, rows: tableRows }}>
      <ResponsiveContainer width="100%" height={CHART_HEIGHT}>
        <ComposedChart data={rows} margin={{ top: 8, right: 20, bottom: 24, left: 12 }}>
          <CartesianGrid stroke={GRID_STROKE} />
          <XAxis
            dataKey="n"
            type="number"
            scale="log"
            domain={[Math.min(...ns), Math.max(...ns)]}
            ticks={ns}
            tickFormatter={tick}
            tick={TICK}
            stroke={AXIS_STROKE}
            allowDataOverflow
            label={{ value: 'N: responses per prompt (log scale)', position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
          />
          <YAxis
            {...yAxisStyle('golden reward of pick', y.ticks.map(tick))}
            type="number"
            domain={y.domain}
            ticks={y.ticks}
            tickFormatter={tick}
          />
          <Tooltip formatter={formatValue} labelFormatter={(n) => `N = ${n}`} />
          {series.map((s, i) => (
            <Area key={`band${i}`} dataKey={bonBandKey(i)} name={`${s.label} ± std`} fill={s.color} fillOpacity={0.16} stroke="none" isAnimationActive={false} connectNulls />
          ))}
          {references && (
            <Line dataKey="oracle" name="oracle" stroke={ORACLE_COLOR} strokeDasharray="6 4" strokeWidth={1.5} dot={false} isAnimationActive={false} />
          )}
          {references && (
            <Line dataKey="random" name="random pick" stroke={RANDOM_COLOR} strokeDasharray="2 3" strokeWidth={1.5} dot={false} isAnimationActive={false} />
          )}
          {series.map((s, i) => (
            <Line key={`mean${i}`} dataKey={bonMeanKey(i)} name={s.label} stroke={s.color} strokeWidth={2} dot={{ r: 2.5 }} isAnimationActive={false} connectNulls />
          ))}
        </ComposedChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

function formatValue(value: unknown): string {
  if (Array.isArray(value)) return value.map((v) => num(Number(v))).join(' – ');
  return num(Number(value));
}
