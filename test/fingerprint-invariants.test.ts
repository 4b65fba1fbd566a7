import { beforeAll, describe, expect, it } from 'vitest';
import type { Access, Frame, GoRaceReport } from '../parsers/go-race/model.js';
import { fingerprintReport } from '../parsers/go-race/key.js';
import { DEFAULT_FINGERPRINT_OPTIONS } from '../src/fingerprint/fingerprint.js';
import { isStandardLibrary } from '../parsers/go-race/names.js';
import type { RaceOccurrence } from '../src/pipeline/occurrence.js';
import { reparse } from './support/render-report.js';
import { seededRandom } from './support/seeded-random.js';
import { loadManifest, occurrencesOf } from './support/samples.js';
import { asGoRaceReport } from '../parsers/go-race/model.js';

/** Property-style: every real report of the samples, varied the ways two sightings of one bug vary. */

type Random = () => number;
const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (random: Random, min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

type Variation = (report: GoRaceReport, racing: string[], random: Random) => void;

const mapFrames = (report: GoRaceReport, fn: (frame: Frame) => Frame): void => {
  for (const stack of [...report.accesses.map((a) => a.stack), ...report.creations.map((c) => c.stack)]) {
    stack.frames = stack.frames.map(fn);
  }
};

const indexOfRacing = (access: Access, racing: string[]): number => access.stack.frames.findIndex((frame) => racing.includes(frame.func.replace(/-fm$/, '')));

/** Sides whose racing function is application code; a side made only of library frames has nothing to vary around. */
const applicationSides = (report: GoRaceReport, racing: string[]): Access[] =>
  report.accesses.filter((access) => {
    const at = indexOfRacing(access, racing);
    return at !== -1 && !isStandardLibrary(access.stack.frames[at]!.func);
  });

/** The outer function of a literal (`main.settle` of `main.settle.func2`), or null for a named function. */
const outerOf = (func: string): string | null => /^(.*?)\.func\d/.exec(func)?.[1] ?? null;

/** 1 when the frame below the racing one is a literal of the same function (the racing literal was called in place by it), else 0. */
const calledInPlaceBy = (access: Access, at: number): number => {
  const [racing, caller] = [access.stack.frames[at], access.stack.frames[at + 1]];
  const outer = racing && outerOf(racing.func);
  return outer && caller && outerOf(caller.func) === outer ? 1 : 0;
};

/** Another function: for a literal, a literal of another function (`main.dispatchLocked.func1.1`). */
const otherFunction = (func: string): string => {
  const outer = outerOf(func);
  return outer === null ? `${func}Locked` : `${outer}Locked${func.slice(outer.length)}`;
};

const VARIATIONS: Record<string, Variation> = {
  'goroutine ids': (report, _racing, random) => {
    for (const access of report.accesses) access.goroutine = random() < 0.2 ? 'main' : int(random, 2, 100_000);
    for (const creation of report.creations) creation.goroutine = int(random, 2, 100_000);
  },
  addresses: (report, _racing, random) => {
    const address = `0x00c${int(random, 0, 0xfffffff).toString(16).padStart(9, '0')}`;
    for (const access of report.accesses) access.address = address;
  },
  'line numbers (code drift)': (report, _racing, random) => mapFrames(report, (frame) => ({ ...frame, line: Math.max(1, frame.line + int(random, -40, 40)) })),
  'file paths (build dir, -trimpath, module cache, vendor)': (report, _racing, random) => {
    const prefix = pick(random, [
      `/home/ci/builds/${int(random, 1, 999)}/`,
      '',
      `/root/go/pkg/mod/soak.example/svc@v1.${int(random, 0, 9)}.${int(random, 0, 9)}/`,
      '/srv/app/vendor/',
      'C:/build/',
    ]);
    mapFrames(report, (frame) => (frame.file.startsWith('<') ? frame : { ...frame, file: prefix + frame.file.split('/').slice(-2).join('/') }));
  },
  'access order': (report) => {
    report.accesses.reverse();
  },
  'callers below the racing functions': (report, racing, random) => {
    for (const access of applicationSides(report, racing)) {
      // A literal called in place by another literal of its function keeps that caller: Go 1.19 shows the
      // nesting only there (closures.ts, nestedUnderCaller).
      const at = indexOfRacing(access, racing) + calledInPlaceBy(access, indexOfRacing(access, racing));
      const callers = Array.from({ length: int(random, 0, 5) }, (_, i) => ({
        func: `soak.example/svc/caller${int(random, 0, 9)}.(*Handler).Serve${i}`,
        file: '/src/caller.go',
        line: int(random, 1, 500),
      }));
      access.stack.frames = [...access.stack.frames.slice(0, at + 1), ...callers];
    }
  },
  'runtime and standard-library frames on top': (report, racing, random) => {
    // The race runtime prints nothing above a sync/atomic operation, and one on top would make the access atomic.
    for (const access of applicationSides(report, racing).filter((side) => !side.stack.frames[0]!.func.startsWith('sync/atomic.'))) {
      const top = pick(random, [
        { func: 'runtime.mapaccess2_faststr', file: '/usr/lib/go-1.22/src/runtime/map_faststr.go', line: 108 },
        // Not sync/atomic: an atomic operation on top makes the access an atomic one, keyed by the operation.
        { func: 'strings.(*Builder).WriteString', file: '/usr/local/go/src/strings/builder.go', line: 108 },
        { func: 'bytes.(*Buffer).Write', file: '/usr/local/go/src/bytes/buffer.go', line: 183 },
        { func: 'internal/race.Read', file: 'internal/race/race.go', line: 30 },
      ]);
      access.stack.frames = [top, ...access.stack.frames];
    }
  },
  '<autogenerated> and goroutine wrappers': (report, racing) => {
    for (const access of report.accesses) {
      const at = indexOfRacing(access, racing);
      if (at === -1) continue;
      const wrapper = { func: `${racing[0]}-fm`, file: '<autogenerated>', line: 1 };
      const gowrap = { func: 'main.main.gowrap3', file: '/src/main.go', line: 40 };
      access.stack.frames.splice(at, 0, wrapper);
      access.stack.frames.push(gowrap);
    }
  },
};

const keyOf = (report: GoRaceReport): string => fingerprintReport(report, DEFAULT_FINGERPRINT_OPTIONS).key;

interface Subject {
  name: string;
  occurrence: RaceOccurrence;
  racing: string[];
}

describe('fingerprint invariants over the real sample reports', () => {
  const subjects: Subject[] = [];

  beforeAll(async () => {
    for (const entry of loadManifest().filter((e) => e.derivedFrom === null)) {
      const occurrences = await occurrencesOf(entry.file);
      occurrences.forEach((occurrence, index) => {
        if (occurrence.truncated) return;
        subjects.push({ name: `${entry.file}#${index + 1}`, occurrence, racing: entry.racingFunctions[index]! });
      });
    }
    expect(subjects.length).toBeGreaterThan(10);
  });

  it('a report printed back and parsed again keeps its fingerprint (the basis of the checks below)', () => {
    for (const subject of subjects) {
      expect(keyOf(reparse(asGoRaceReport(subject.occurrence.report))), subject.name).toBe(subject.occurrence.fingerprint);
    }
  });

  for (const [name, vary] of Object.entries(VARIATIONS)) {
    it(`is unchanged by ${name}`, () => {
      for (const subject of subjects) {
        for (let seed = 1; seed <= 5; seed += 1) {
          const report = structuredClone(asGoRaceReport(subject.occurrence.report));
          vary(report, subject.racing, seededRandom(seed));
          expect(keyOf(reparse(report)), `${subject.name} seed ${seed}`).toBe(subject.occurrence.fingerprint);
        }
      }
    });
  }

  it('is unchanged by any combination of those variations', () => {
    const variations = Object.values(VARIATIONS);
    for (const subject of subjects) {
      for (let seed = 100; seed < 120; seed += 1) {
        const random = seededRandom(seed);
        const report = structuredClone(asGoRaceReport(subject.occurrence.report));
        for (const vary of variations) if (random() < 0.5) vary(report, subject.racing, random);
        expect(keyOf(reparse(report)), `${subject.name} seed ${seed}`).toBe(subject.occurrence.fingerprint);
      }
    }
  });

  it('changes when either racing function is a different function', () => {
    for (const subject of subjects) {
      for (const side of [0, 1]) {
        const report = structuredClone(asGoRaceReport(subject.occurrence.report));
        const access = report.accesses[side]!;
        const at = indexOfRacing(access, subject.racing);
        // An atomic side is keyed by its operation: the function below it is whoever called the dropped caller.
        if (at === -1 || access.stack.frames[0]!.func.startsWith('sync/atomic.')) continue;
        access.stack.frames[at] = { ...access.stack.frames[at]!, func: otherFunction(access.stack.frames[at]!.func) };
        expect(keyOf(reparse(report)), `${subject.name} side ${side}`).not.toBe(subject.occurrence.fingerprint);
      }
    }
  });
});
