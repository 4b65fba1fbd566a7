// One aligned table (GitHub-flavoured Markdown, so it pastes into an issue as it is).

export type Row = [measure: string, input: string, racewatch: string, baseline: string, ratio: string, target: string, result: string];

export const HEADER: Row = ['measure', 'input', 'racewatch', 'baseline (same run)', 'ratio', 'target', 'result'];

export function renderTable(rows: Row[]): string {
  const all = [HEADER, ...rows];
  const widths = HEADER.map((_, c) => Math.max(...all.map((row) => row[c]!.length)));
  const line = (row: string[]) => `| ${row.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`;
  return [line(HEADER), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

export const passMiss = (ok: boolean) => (ok ? 'PASS' : 'MISS');
