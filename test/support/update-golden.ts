/**
 * `npm run golden:update`: rewrites samples/expected/ from what the current code finds in samples/logs/,
 * and removes golden files whose log is gone. Review the resulting diff before committing it.
 */
import { mkdirSync, readdirSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { computeGolden, EXPECTED_DIR, goldenLogs, goldenPathOf, readGoldenText, sampleLogs, serializeGolden } from './golden.js';

const logs = sampleLogs();
let written = 0;
let unchanged = 0;
let reports = 0;
for (const log of logs) {
  const golden = await computeGolden(log);
  reports += golden.reports.length;
  const text = serializeGolden(golden);
  if (readGoldenText(log) === text) {
    unchanged += 1;
    continue;
  }
  const file = goldenPathOf(log);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  written += 1;
  console.log(`wrote   ${path.relative(process.cwd(), file)}`);
}

const known = new Set(logs);
let removed = 0;
for (const log of goldenLogs()) {
  if (known.has(log)) continue;
  rmSync(goldenPathOf(log));
  removed += 1;
  console.log(`removed ${path.relative(process.cwd(), goldenPathOf(log))} (no such log)`);
}
removeEmptyDirs(EXPECTED_DIR);

console.log(`${logs.length} golden file(s), ${reports} report(s): ${written} written, ${unchanged} unchanged, ${removed} removed`);

function removeEmptyDirs(dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    const inner = path.join(dir, entry.name);
    removeEmptyDirs(inner);
    if (readdirSync(inner).length === 0) rmdirSync(inner);
  }
}
