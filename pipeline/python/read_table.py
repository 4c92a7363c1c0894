"""Parquet → JSON lines for the orchestrator, which reads JSONL and CSV itself:

    python read_table.py IN.parquet OUT.jsonl --columns prompt,response [--limit N]

Needs pyarrow (present wherever the GPU workers run).
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--columns", required=True)
    ap.add_argument("--limit", type=int)
    args = ap.parse_args(argv)
    try:
        import pyarrow.parquet as pq
    except ImportError:
        print("reading Parquet needs pyarrow: pip install pyarrow, or convert the file to JSONL", file=sys.stderr)
        return 3
    columns = args.columns.split(",")
    pf = pq.ParquetFile(args.src)
    missing = [c for c in columns if c not in pf.schema_arrow.names]
    if missing:
        print(f"{args.src}: no column {', '.join(missing)} (columns: {', '.join(pf.schema_arrow.names)})", file=sys.stderr)
        return 4
    written = 0
    tmp = args.dst + ".partial"
    with open(tmp, "w", encoding="utf-8") as out:
        for batch in pf.iter_batches(columns=columns):
            for row in batch.to_pylist():
                if args.limit is not None and written >= args.limit:
                    break
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
                written += 1
    os.replace(tmp, args.dst)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
