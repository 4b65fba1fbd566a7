// The pieces of following a log through rotation that need no daemon: which files are a single-file
// path's rotated generations, which of them were born since a look, which log a generation belongs to,
// and how a report left open at the end of one file is finished in the next, however many files later.
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type ExtractEvent, RaceExtractor } from '../src/pipeline/extract.js';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { expandPaths } from '../src/source/expand.js';
import { bornSince, CLOCK_SLACK_MS, Lineages, rotatedGenerations, rotatedSiblings } from '../src/source/generations.js';
import { DEFAULT_EXTRACT, soakReportTexts } from './support/samples.js';

describe('rotatedSiblings', () => {
  it('names logrotate gives a rotated file (numbered, dated, compressed), for single-file paths only', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-generations-'));
    for (const name of ['svc.log', 'svc.log.1', 'svc.log.2.gz', 'svc.log-20261206', 'svc.logger', 'svc.log.', 'other.log.1', 'svc.log.d/x']) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), '');
    }
    const at = (name: string) => path.join(dir, name);
    expect(rotatedSiblings([at('svc.log')])).toEqual(['svc.log-20261206', 'svc.log.1', 'svc.log.2.gz', 'svc.log.d'].map(at));
    // A directory named like a generation is no file to read.
    expect(rotatedGenerations([at('svc.log')], null).map((g) => g.path)).toEqual(['svc.log-20261206', 'svc.log.1', 'svc.log.2.gz'].map(at));
    // A glob or a directory already names what it follows; a generation that is a path of its own is not a sibling.
    expect(rotatedSiblings([at('svc.log*'), dir])).toEqual([]);
    expect(rotatedSiblings([at('svc.log'), at('svc.log.1')])).not.toContain(at('svc.log.1'));
  });
});

describe('bornSince', () => {
  it('a birth time after the look (less the clock slack) is new; without one, the change time decides', () => {
    const lookedAt = 1_000_000;
    expect(bornSince({ birthtimeMs: lookedAt + 1, ctimeMs: lookedAt + 1 }, lookedAt)).toBe(true);
    expect(bornSince({ birthtimeMs: lookedAt - CLOCK_SLACK_MS + 1, ctimeMs: lookedAt }, lookedAt)).toBe(true);
    // Renamed after the look (change time moved) but born long before: an older generation shifted along.
    expect(bornSince({ birthtimeMs: lookedAt - 60_000, ctimeMs: lookedAt + 5 }, lookedAt)).toBe(false);
    expect(bornSince({ birthtimeMs: 0, ctimeMs: lookedAt + 5 }, lookedAt)).toBe(true);
    expect(bornSince({ birthtimeMs: lookedAt + 5, ctimeMs: lookedAt + 5 }, null)).toBe(false);
  });
});

describe('Lineages', () => {
  it('a file belongs to the shortest known name it is a generation of', () => {
    const lineages = new Lineages(['/l/svc.log', '/l/svc.log.1', '/l/api.log', '/m/svc.log.3']);
    expect(lineages.rootOf('/l/svc.log.2.gz')).toBe('/l/svc.log');
    expect(lineages.rootOf('/l/svc.log-20261206')).toBe('/l/svc.log');
    expect(lineages.rootOf('/l/svc.log')).toBe('/l/svc.log');
    expect(lineages.rootOf('/l/api.log.1')).toBe('/l/api.log');
    expect(lineages.rootOf('/l/svc.logger')).toBe('/l/svc.logger');
    expect(lineages.rootOf('/m/svc.log.4')).toBe('/m/svc.log.4');
  });
});

describe('a report left open at the end of a file, finished in the next', () => {
  const report = soakReportTexts()[0]!;
  const cut = report.indexOf('\nPrevious ') + 1;
  const [head, tail] = [`before\n${report.slice(0, cut)}`, report.slice(cut)];
  const reports = (events: ExtractEvent[]): RaceOccurrence[] => events.flatMap((event) => (event.type === 'race' ? [event.occurrence] : []));

  /** Files read in order, each offered what the one before left open, the new file in `chunks` pieces. */
  function lineage(contents: string[], chunks = 1): RaceOccurrence[] {
    const extractors = contents.map((_, k) => new RaceExtractor(`/logs/svc.log.${contents.length - k}`, DEFAULT_EXTRACT));
    const events = extractors.flatMap((extractor, k) => {
      if (k > 0) extractors[k - 1]!.offerOpenReportTo(extractor);
      const bytes = Buffer.from(contents[k]!);
      const size = Math.ceil(bytes.length / chunks);
      return Array.from({ length: chunks }, (_, c) => extractor.push(bytes.subarray(c * size, (c + 1) * size))).flat();
    });
    return reports([...events, ...[...extractors].reverse().flatMap((extractor) => extractor.end())]);
  }

  it('is one whole report, with the id and place of the file its marker is in', () => {
    const [found] = lineage([head, `${tail}after\n`]);
    expect(found).toMatchObject({ truncated: false, source: '/logs/svc.log.2', line: 3 });
    const whole = reports(new RaceExtractor('/logs/svc.log.2', DEFAULT_EXTRACT).push(Buffer.from(`before\n${report}`)));
    expect(found!.fingerprint).toBe(whole[0]!.fingerprint);
  });

  it('its id does not depend on how much of the next file was read when the report ended', () => {
    const once = lineage([head, `${tail}${'x'.repeat(2000)}\n`], 1);
    const inPieces = lineage([head, `${tail}${'x'.repeat(2000)}\n`], 7);
    expect(inPieces.map((o) => o.id)).toEqual(once.map((o) => o.id));
  });

  it('an empty generation in between (rotated twice before the next write) passes the offer on', () => {
    const [found, ...rest] = lineage([head, '', `${tail}after\n`]);
    expect(rest).toEqual([]);
    expect(found).toMatchObject({ truncated: false, source: '/logs/svc.log.3', line: 3 });
  });

  it('a next file that begins with output of its own leaves the report to the file it began in', () => {
    const found = lineage([head, `restarted\n${report}`]);
    expect(found.map((o) => [o.source, o.truncated])).toEqual([
      ['/logs/svc.log.1', false],
      ['/logs/svc.log.2', true],
    ]);
  });
});

describe('expandPaths', () => {
  it('counts files a directory listing found that were gone by their stat (a dangling link here): the vanished metric of the daemon', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'racewatch-vanished-'));
    writeFileSync(path.join(dir, 'svc.log'), '');
    symlinkSync(path.join(dir, 'deleted.log'), path.join(dir, 'svc.log.1'));
    const listed = await expandPaths([dir]);
    expect(listed.files.map((file) => path.basename(file.path))).toEqual(['svc.log']);
    expect(listed.vanished).toBe(1);
  });
});
