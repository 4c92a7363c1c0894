import type { LegendEntry } from '../export/chartImage.ts';

export function ChartLegend({ entries }: { entries: readonly LegendEntry[] }) {
  if (entries.length === 0) return null;
  return (
    <ul className="chart-legend">
      {entries.map((e) => (
        <li key={e.label}>
          <svg width="22" height="10" aria-hidden="true">
            {e.shape === 'line' ? (
              <line x1="1" x2="21" y1="5" y2="5" stroke={e.color} strokeWidth="2.5" strokeDasharray={e.dash} />
            ) : (
              <rect x="1" y="0.5" width="20" height="9" fill={e.color} fillOpacity="0.35" stroke={e.color} />
            )}
          </svg>
          {e.label}
        </li>
      ))}
    </ul>
  );
}
