/** Shared axis styling, as attributes (not CSS) so exported SVGs carry it. */
export const TICK = { fontSize: 12, fill: '#4a5263' } as const;
export const AXIS_STROKE = '#9aa3b2';
export const GRID_STROKE = '#e4e8ef';
export const AXIS_LABEL = { fontSize: 12, fill: '#2b3242' } as const;
export const CHART_HEIGHT = 280;

/** Room for the y-axis: its rotated title plus the longest tick label (12 px system font ≈ 7 px a character). */
export function yAxisWidth(labels: readonly string[]): number {
  const longest = labels.reduce((n, l) => Math.max(n, l.length), 0);
  return Math.max(52, 34 + Math.ceil(7 * longest));
}

/** What every value (y) axis shares: tick style, stroke, room for its longest tick label, a rotated title. */
export function yAxisStyle(title: string, tickLabels: readonly string[]) {
  return {
    tick: TICK,
    stroke: AXIS_STROKE,
    width: yAxisWidth(tickLabels),
    label: { value: title, angle: -90, position: 'insideLeft' as const, offset: 2, style: { textAnchor: 'middle' as const }, ...AXIS_LABEL },
  };
}
