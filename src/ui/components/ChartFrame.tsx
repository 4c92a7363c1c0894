import { useRef, useState, type ReactNode } from 'react';
import { chartSvg, svgToPng, type LegendEntry } from '../export/chartImage.ts';
import { downloadBlob, downloadText, slug } from '../export/download.ts';
import type { Topic } from '../store.ts';
import { useActions, useLab } from '../storeContext.tsx';
import { ChartLegend } from './ChartLegend.tsx';
import { DataTable, type TableData } from './DataTable.tsx';

export interface ChartFrameProps {
  id: string;
  title: string;
  subtitle?: string;
  legend: readonly LegendEntry[];
  /** The explainer point this chart illustrates. */
  topic?: Topic;
  /** Start of exported file names, e.g. the run's label. */
  fileStem: string;
  /** The numbers behind the chart, readable without seeing it. */
  table: TableData;
  children: ReactNode;
}

/** A chart with its title, legend, export buttons, data table and link to the explainer. */
export function ChartFrame({ id, title, subtitle, legend, topic, fileStem, table, children }: ChartFrameProps) {
  const body = useRef<HTMLDivElement>(null);
  const highlighted = useLab((s) => topic !== undefined && s.highlight === topic);
  const { setHighlight, showExplainer } = useActions();
  const [exportError, setExportError] = useState<string | null>(null);

  const image = () => {
    const surface = body.current?.querySelector<SVGSVGElement>('svg.recharts-surface');
    if (!surface) throw new Error('the chart has not been drawn yet');
    return chartSvg(surface, { title, subtitle, legend });
  };
  const name = (ext: string) => `${slug(fileStem)}-${slug(title)}.${ext}`;
  const exportAs = async (format: 'svg' | 'png') => {
    try {
      setExportError(null);
      const img = image();
      if (format === 'svg') downloadText(name('svg'), img.text, 'image/svg+xml');
      else downloadBlob(name('png'), await svgToPng(img));
    } catch (error) {
      setExportError(error instanceof Error ? error.message : String(error));
    }
  };
  const explain = () => {
    if (!topic) return;
    setHighlight(topic);
    showExplainer(true);
    // The explainer may have just been shown: find its point after React has drawn it.
    requestAnimationFrame(() => {
      const item = document.getElementById(`explain-${topic}`);
      item?.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
      item?.focus({ preventScroll: true });
    });
  };

  return (
    <figure id={id} className={highlighted ? 'chart is-highlighted' : 'chart'} aria-labelledby={`${id}-title`} data-testid={id}>
      <div className="chart-head">
        <div>
          <h3 id={`${id}-title`}>{title}</h3>
          {subtitle && <p className="chart-subtitle">{subtitle}</p>}
        </div>
        <div className="chart-actions" role="group" aria-label={`${title}: actions`}>
          {topic && (
            <button type="button" className="small" onClick={explain} aria-label={`Explain: ${title}`}>
              Explain
            </button>
          )}
          <button type="button" className="small" onClick={() => void exportAs('svg')} aria-label={`Export ${title} as SVG`}>
            SVG
          </button>
          <button type="button" className="small" onClick={() => void exportAs('png')} aria-label={`Export ${title} as PNG`}>
            PNG
          </button>
        </div>
      </div>
      <ChartLegend entries={legend} />
      <div className="chart-body" ref={body}>
        {children}
      </div>
      {exportError && (
        <p className="field-error" role="alert">
          Export failed: {exportError}
        </p>
      )}
      <DataTable caption={`${title}: data`} data={table} />
    </figure>
  );
}
