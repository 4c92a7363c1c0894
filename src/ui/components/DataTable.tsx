export interface TableData {
  columns: readonly string[];
  rows: readonly (readonly string[])[];
}

/** The numbers a chart draws, folded away under the chart: for screen readers, checking and copying. */
export function DataTable({ caption, data }: { caption: string; data: TableData }) {
  return (
    <details className="data-table">
      <summary>Data</summary>
      <div className="table-scroll">
        <table>
          <caption className="sr-only">{caption}</caption>
          <thead>
            <tr>
              {data.columns.map((c) => (
                <th key={c} scope="col">
                  {c}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {data.rows.map((row, i) => (
              <tr key={i}>
                {row.map((cell, j) => (
                  <td key={j}>{cell}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </details>
  );
}
