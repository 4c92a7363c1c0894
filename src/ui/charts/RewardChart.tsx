import { Area, AreaChart, CartesianGrid, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { ChartFrame } from '../components/ChartFrame.tsx';
import { num, pct, tick } from '../format.ts';
import type { Histogram } from '../../worker/protocol.ts';
import { AXIS_LABEL, AXIS_STROKE, GRID_STROKE, TICK, yAxisStyle } from './axis.ts';
import { niceAxis, rewardRows } from './data.ts';

const TRAIN = '#0b6bcb';
const share = (v: number) => `${Math.round(v * 1000) / 10}%`;
const TEST = '#d55e00';

/** Golden-reward distribution of the train and test responses, as shares so the splits overlay. */
export function RewardChart({ train, test, fileStem }: { train: Histogram; test: Histogram; fileStem: string }) {
  const rows = rewardRows(train, test);
  const x = niceAxis(train.edges[0], train.edges[train.edges.length - 1], 7);
  return (
    <ChartFrame
      id="chart-rewards"
      title="Golden reward distribution"
      subtitle="share of responses per reward bin"
      legend={[
        { label: 'train responses', color: TRAIN, shape: 'swatch' },
        { label: 'test responses', color: TEST, shape: 'line' },
      ]}
      fileStem={fileStem}
      table={{ columns: ['reward (bin centre)', 'train share', 'test share'], rows: rows.map((r) => [num(r.x, 2), pct(r.train, 2), pct(r.test, 2)]) }}
    >
      <ResponsiveContainer width="100%" height={200}>
        <AreaChart data={rows} margin={{ top: 8, right: 20, bottom: 24, left: 12 }}>
          <CartesianGrid stroke={GRID_STROKE} vertical={false} />
          <XAxis
            dataKey="x"
            type="number"
            domain={x.domain}
            ticks={x.ticks}
            tickFormatter={tick}
            tick={TICK}
            stroke={AXIS_STROKE}
            label={{ value: 'golden reward', position: 'insideBottom', offset: -14, ...AXIS_LABEL }}
          />
          <YAxis
            {...yAxisStyle('responses', ['10.5%'])}
            tickFormatter={share}
          />
          <Tooltip formatter={(v) => pct(Number(v), 2)} labelFormatter={(x) => `reward ≈ ${num(Number(x), 2)}`} />
          <Area type="monotone" dataKey="train" name="train" stroke={TRAIN} fill={TRAIN} fillOpacity={0.2} isAnimationActive={false} />
          <Area type="monotone" dataKey="test" name="test" stroke={TEST} strokeWidth={2} fill="none" isAnimationActive={false} />
        </AreaChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}
