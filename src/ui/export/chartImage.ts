/**
 * Chart export. The exported SVG is self-contained: the recharts surface plus the title and
 * legend (which live in HTML on the page), a white background and its own font rule, so it
 * renders the same in a paper, a slide or a vector editor.
 */

export interface LegendEntry {
  label: string;
  color: string;
  /** 'line' with optional dash pattern, or a filled swatch for bands and bars. */
  shape: 'line' | 'swatch';
  dash?: string;
}

export interface ChartMeta {
  title: string;
  subtitle?: string;
  legend: readonly LegendEntry[];
}

const SVG_NS = 'http://www.w3.org/2000/svg';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const PAD = 12;
const LEGEND_ROW = 18;

export interface SvgImage {
  text: string;
  width: number;
  height: number;
}

export function chartSvg(surface: SVGSVGElement, meta: ChartMeta): SvgImage {
  const box = surface.getBoundingClientRect();
  const width = Math.round(box.width || Number(surface.getAttribute('width')) || 600);
  const chartHeight = Math.round(box.height || Number(surface.getAttribute('height')) || 300);

  const outer = document.createElementNS(SVG_NS, 'svg');
  const el = (name: string, attrs: Record<string, string | number>, text?: string) => {
    const node = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const style = el('style', {}, `text { font-family: ${FONT}; }`);
  let y = PAD + 14;
  const header: Element[] = [el('text', { x: PAD, y, 'font-size': 15, 'font-weight': 600, fill: '#1d2330' }, meta.title)];
  if (meta.subtitle) {
    y += 18;
    header.push(el('text', { x: PAD, y, 'font-size': 12, fill: '#566074' }, meta.subtitle));
  }
  // Legend entries flow left to right and wrap; text width is estimated (no layout engine here).
  y += LEGEND_ROW;
  let x = PAD;
  for (const entry of meta.legend) {
    const w = 30 + entry.label.length * 6.6;
    if (x + w > width - PAD && x > PAD) {
      x = PAD;
      y += LEGEND_ROW;
    }
    header.push(
      entry.shape === 'line'
        ? el('line', { x1: x, x2: x + 20, y1: y - 4, y2: y - 4, stroke: entry.color, 'stroke-width': 2, ...(entry.dash ? { 'stroke-dasharray': entry.dash } : {}) })
        : el('rect', { x, y: y - 10, width: 20, height: 10, fill: entry.color, 'fill-opacity': 0.35, stroke: entry.color }),
    );
    header.push(el('text', { x: x + 26, y, 'font-size': 12, fill: '#1d2330' }, entry.label));
    x += w + 12;
  }
  const top = y + 8;
  const height = top + chartHeight;

  const chart = surface.cloneNode(true) as SVGSVGElement;
  chart.setAttribute('x', '0');
  chart.setAttribute('y', String(top));
  chart.setAttribute('width', String(width));
  chart.setAttribute('height', String(chartHeight));
  chart.removeAttribute('style');

  outer.setAttribute('xmlns', SVG_NS);
  outer.setAttribute('width', String(width));
  outer.setAttribute('height', String(height));
  outer.setAttribute('viewBox', `0 0 ${width} ${height}`);
  outer.append(style, el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }), ...header, chart);
  return { text: new XMLSerializer().serializeToString(outer), width, height };
}

/** Rasterises an SVG at `scale`× for crisp PNGs on high-density screens and in slides. */
export async function svgToPng(image: SvgImage, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([image.text], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    await new Promise<void>((resolve, reject) => {
      img.onload = () => resolve();
      img.onerror = () => reject(new Error('the chart could not be rendered to an image'));
      img.src = url;
    });
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(image.width * scale);
    canvas.height = Math.round(image.height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('no 2D canvas available for PNG export');
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, image.width, image.height);
    return await new Promise<Blob>((resolve, reject) =>
      canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error('PNG encoding failed'))), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}
