import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The bench in CI: a smoke run on tiny inputs that proves it measures every figure; no timing is asserted. */
describe('npm run bench (smoke)', () => {
  it('runs on tiny inputs, checks the reports it planted, and prints every measure of the table', async () => {
    const tsx = path.join(ROOT, 'node_modules', '.bin', 'tsx');
    const { code, stdout } = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(tsx, ['bench/run.ts'], { cwd: ROOT, env: { ...process.env, BENCH_SMOKE: '1' }, maxBuffer: 16 * 1024 * 1024 }, (error, out) =>
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout: out }),
      );
    });
    expect(code).toBe(0);
    expect(stdout).toContain('every scan found exactly the inserted reports');
    for (const measure of ['scan throughput', 'scan peak RSS', 'report → GitLab p99', 'idle CPU (file events)', 'idle CPU (RACEWATCH_WATCH=poll)']) {
      expect(stdout).toContain(measure);
    }
    expect(stdout).toMatch(/grep -c: [\d.]+ MB\/s/);
  }, 120_000);
});
