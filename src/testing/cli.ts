import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', 'cli', 'bin.mjs');

export interface CliOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `reward-lab ARGS` in a child process, as a user would, and collects what it printed. */
export async function cli(args: string[]): Promise<CliOutcome> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as CliOutcome;
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}
