import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import { num, tick } from '../format.ts';
import { AXIS_LABEL, AXIS_STROKE, GRID_STROKE, TICK, yAxisStyle } from './axis.ts';

const TRAIN = '#0b6bcb';

/** Mean golden reward at each response position of the train split: rising when rank-sorted. */
export function RankChart({ meanByRank, fileStem }: { meanByRank: readonly number[]; fileStem: string }) {
  const rows = meanByRank.map((mean, rank) => ({ rank, mean }));
  const labels = meanByRank.map((m) => num(m, 2));
  return (
    <ChartFrame
      id="chart-rank"
      title="Mean reward by response position"
      subtitle="train split: response index 0 … K−1, averaged over prompts"
      legend={[{ label: 'mean golden reward', color: TRAIN, shape: 'line' }]}
      fileStem={fileStem}
      table={{ columns: ['response index', 'mean reward'], rows: rows.map((r) => [String(r.rank), num(r.mean, 4)]) }}
    >
      <ResponsiveContainer width="100%" height={200}>
        <LineChart data={rows} margin={{ top: 8, right: 20, bottom: 24, left: 12 }}>
          <CartesianGrid stroke={GRID_STROKE} vertical={false} />
          <XAxis
            dataKey="rank"
            type="number"
            domain={[0, Math.max(1, rows.length - 1)]}
            allowDecimals={false}
            tick={TICK}
            stroke={AXIS_STROKE}
            label={{ value: 'response index (rank if sorted)', position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
          />
          <YAxis
            {...yAxisStyle('mean reward', labels)}
            tickFormatter={tick}
            domain={['auto', 'auto']}
          />
          <Tooltip formatter={(v) => num(Number(v), 3)} labelFormatter={(x) => `response ${x}`} />
          <Line type="monotone" dataKey="mean" name="mean reward" stroke={TRAIN} strokeWidth={2} dot={rows.length <= 30} isAnimationActive={false} />
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
