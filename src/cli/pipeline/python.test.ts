/**
 * The Python side, as far as a machine without torch can check it: every file of pipeline/
 * compiles (syntax errors are caught here, not on a GPU machine), and protocol.py's unit tests
 * (standard library only) pass.
 */
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const PIPELINE = resolve(import.meta.dirname, '..', '..', '..', 'pipeline');
const env = { ...process.env, PYTHONDONTWRITEBYTECODE: '1' };

async function pythonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === '__pycache__') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await pythonFiles(p)));
    else if (e.name.endsWith('.py')) out.push(p);
  }
  return out.sort();
}

describe('pipeline Python', () => {
  it('compiles every file (no bytecode written)', async () => {
    const files = await pythonFiles(PIPELINE);
    expect(files.map((f) => f.slice(PIPELINE.length + 1))).toEqual(
      expect.arrayContaining(['python/annotate.py', 'python/embed.py', 'python/fake_worker.py', 'python/protocol.py', 'python/sample.py', 'python/sft.py', 'python/worker.py', 'gpu-smoke/make_tiny.py']),
    );
    const script = 'import sys\nfor f in sys.argv[1:]:\n    compile(open(f, encoding="utf-8").read(), f, "exec")\nprint(len(sys.argv) - 1)';
    const { stdout } = await run('python3', ['-c', script, ...files], { env });
    expect(Number(stdout.trim())).toBe(files.length);
  });

  it('passes the protocol unit tests', async () => {
    const { stderr } = await run('python3', ['-m', 'unittest', 'discover', '-s', join(PIPELINE, 'python'), '-p', 'test_*.py'], { env });
    expect(stderr).toMatch(/Ran \d+ tests[\s\S]*OK/);
  });
});
