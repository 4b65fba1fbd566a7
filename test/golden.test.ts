import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeGolden, goldenLogs, goldenPathOf, readGoldenText, sampleLogs, serializeGolden, UPDATE_COMMAND } from './support/golden.js';
import { SAMPLES_DIR } from './support/samples.js';

const logs = sampleLogs();
const shown = (log: string) => path.relative(path.dirname(SAMPLES_DIR), goldenPathOf(log));
const deliberate = `if the change is deliberate, run \`${UPDATE_COMMAND}\` and review the diff of samples/expected/ in the commit`;

describe('golden files (samples/expected/) pin what every sample log yields', () => {
  it('there is one golden file per sample log and one sample log per golden file', () => {
    const goldens = new Set(goldenLogs());
    const missing = logs.filter((log) => !goldens.has(log)).map(shown);
    const orphaned = [...goldens].filter((log) => !logs.includes(log)).map(shown);
    expect(logs.length).toBeGreaterThan(0);
    expect({ missing, orphaned }, `golden files missing or without a log; ${deliberate}`).toEqual({ missing: [], orphaned: [] });
  });

  for (const log of logs) {
    it(`logs/${log}`, async () => {
      const expected = readGoldenText(log);
      expect(expected, `${shown(log)} does not exist; ${deliberate}`).not.toBeNull();
      // Compared as text: the failure shows a line diff of the JSON, and a reordered or reformatted file fails too.
      const actual = serializeGolden(await computeGolden(log));
      expect(actual, `logs/${log} no longer yields ${shown(log)}; ${deliberate}`).toBe(expected);
    });
  }
});
