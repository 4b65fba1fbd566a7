import { beforeAll, describe, expect, it } from 'vitest';
import type { Access, Frame, GoRaceReport } from '../parsers/go-race/model.js';
import { fingerprintReport, sideKey } from '../parsers/go-race/key.js';
import { DEFAULT_FINGERPRINT_OPTIONS, type Fingerprint } from '../src/fingerprint/fingerprint.js';
import { goraceV1 } from '../parsers/go-race/legacy/gorace-v1.js';
import { renderReport, reparse } from './support/render-report.js';
import { occurrencesOf } from './support/samples.js';
import { asGoRaceReport } from '../parsers/go-race/model.js';

/**
 * The key's rules, each on real reports from samples/logs varied the way the case varies them (what is changed
 * is named in each test). The rule each test holds is in the README, "The fingerprint".
 */
const fingerprint = (report: Pick<GoRaceReport, 'accesses' | 'creations' | 'truncated' | 'text'>): Fingerprint =>
  fingerprintReport(report, DEFAULT_FINGERPRINT_OPTIONS);
const keyOf = (report: GoRaceReport): string => fingerprint(report).key;
const frame = (func: string, file = '/src/main.go', line = 10): Frame => ({ func, file, line });

async function firstReport(log: string): Promise<GoRaceReport> {
  const [occurrence] = await occurrencesOf(log);
  return structuredClone(asGoRaceReport(occurrence!.report));
}

describe("sync/atomic: the race runtime drops the atomic operation's caller, so that side is the operation", () => {
  // samples/logs/atomic-plain.log: (*Bucket).Used reads plainly; the write side is sync/atomic.AddInt64 twice.
  let real: GoRaceReport;
  beforeAll(async () => {
    real = await firstReport('logs/atomic-plain.log');
  });
  const atomicSide = (report: GoRaceReport): Access => report.accesses.find((access) => access.stack.frames[0]!.func === 'sync/atomic.AddInt64')!;

  it('one key whichever function called the caller of the operation (the goroutine closure, a worker loop)', () => {
    // What Go 1.19 to 1.26 print when the atomic's caller (bump) is not inlined: the caller's caller follows.
    const callers = [[], [frame('main.main.func1')], [frame('main.main.func3')], [frame('main.worker'), frame('main.main.func5')]];
    const keys = callers.map((below) => {
      const report = structuredClone(real);
      atomicSide(report).stack.frames.push(...below);
      return keyOf(reparse(report));
    });
    expect(new Set(keys).size).toBe(1);
    // What 0.1 did with the same reports: one key per caller, so one issue per goroutine that ran the bug.
    const v1 = callers.map((below) => {
      const report = structuredClone(real);
      atomicSide(report).stack.frames.push(...below);
      return goraceV1(reparse(report).accesses, DEFAULT_FINGERPRINT_OPTIONS).key;
    });
    expect(new Set(v1).size).toBe(callers.length);
  });

  it('one key whichever side is the current access and which the previous one', () => {
    const swapped = structuredClone(real);
    swapped.accesses.reverse();
    for (const [i, access] of swapped.accesses.entries()) access.previous = i === 1;
    atomicSide(swapped).stack.frames.push(frame('main.main.func1'));
    const plain = structuredClone(real);
    atomicSide(plain).stack.frames.push(frame('main.main.func4'));
    expect(keyOf(reparse(swapped))).toBe(keyOf(reparse(plain)));
  });

  it('names the operation as the racing function, and a different plain access or operation is a different bug', () => {
    const base = fingerprint(reparse(real));
    expect(base.sides).toEqual([['soak.example/quota/limiter.(*Bucket).Used'], ['sync/atomic.AddInt64']]);
    const otherReader = structuredClone(real);
    otherReader.accesses.find((access) => access !== atomicSide(otherReader))!.stack.frames[0]!.func = 'soak.example/quota/limiter.(*Bucket).Left';
    const otherOperation = structuredClone(real);
    for (const f of atomicSide(otherOperation).stack.frames) f.func = 'sync/atomic.StoreInt64';
    expect(keyOf(reparse(otherReader))).not.toBe(base.key);
    expect(keyOf(reparse(otherOperation))).not.toBe(base.key);
  });
});

describe('closure names across Go releases (as Go 1.19, 1.21, 1.22, 1.23, 1.24 and 1.26 printed them)', () => {
  // samples/logs/closures.log: main.main.func2 reads what main.main.func1 wrote. Each case renames the write side's
  // racing frame to what the named Go releases printed for one closure of throwaway programs (see the README).
  const sameClosure: Record<string, string[]> = {
    'a literal called in place inside a literal': [
      'main.foo.func1.1', // 1.19
      'main.foo.foo.func1.func2', // 1.24, 1.26
    ],
    "a literal of charge, inlined into invoice's goroutine literal (samples/logs/inlined-closures.*)": [
      'main.invoice.func1.1', // 1.19
      'main.invoice.func1.charge.func1', // 1.21
      'main.invoice.func1.charge.1', // 1.22 to 1.26
    ],
    'a literal inlined into a goroutine literal': [
      'main.bar.func1.2', // 1.19
      'main.bar.func1.bar.func1.1.func2', // 1.21
      'main.bar.func1.bar.func1.1.2', // 1.22 to 1.26
    ],
    'a goroutine started inside literals called in place': ['main.baz.func1.1.1', 'main.baz.baz.func1.func2.1'], // 1.19; 1.21 to 1.26
    'the same in a method': ['main.(*S).Run.func1.1.1', 'main.(*S).Run.(*S).Run.func1.func2.1'], // 1.19; 1.21 to 1.26
    'a package-level literal': ['main.glob..func1', 'main.init.func1'], // 1.19, 1.21; 1.26
    'a nested literal that is not inlined (every release)': ['main.main.func1.1'],
  };
  let real: GoRaceReport;
  beforeAll(async () => {
    real = await firstReport('logs/closures.log');
  });
  const renamed = (name: string): GoRaceReport => {
    const report = structuredClone(real);
    const writer = report.accesses.find((access) => access.op === 'write')!;
    writer.stack.frames[0]!.func = name;
    return reparse(report);
  };

  for (const [what, names] of Object.entries(sameClosure)) {
    it(`one key for ${what}`, () => {
      const keys = new Set(names.map((name) => keyOf(renamed(name))));
      expect(keys.size).toBe(1);
      expect(keys.has(keyOf(renamed('main.main.func1')))).toBe(false);
    });
  }

  it('the cost of keying by the outermost function: a literal whose function one release inlines and another does not gets a key of each', () => {
    // foo inlined into a goroutine literal of main by 1.22 and 1.23, not by 1.19 and 1.24 (README, "Closures across Go releases").
    expect(keyOf(renamed('main.main.func1.foo.1.1'))).not.toBe(keyOf(renamed('main.foo.func1.1')));
    expect(keyOf(renamed('main.main.func1.rangeInClosure.1-range1'))).not.toBe(keyOf(renamed('main.rangeInClosure.rangeInClosure.func1-range1')));
  });

  it('1.19 numbers a literal called in place inside another as a sibling: the frame that called it shows the nesting', () => {
    const report = structuredClone(real);
    const frames = report.accesses.find((access) => access.op === 'write')!.stack.frames;
    const [inner, outer] = [{ ...frames[0]! }, { ...frames[0]! }];
    frames.splice(0, 1, { ...inner, func: 'main.settle.func2' }, { ...outer, func: 'main.settle.func1' });
    const go119 = reparse(report);
    frames.splice(0, 1, { ...inner, func: 'main.settle.settle.func1.func2' });
    const go126 = reparse(report);
    expect(keyOf(go119)).toBe(keyOf(go126));
    expect(keyOf(go119)).not.toBe(keyOf(renamed('main.settle.func2')));
  });

  it('two literals written side by side in one function stay two bugs; a literal and one nested in it too', () => {
    const keys = ['main.main.func1', 'main.main.func3', 'main.main.func1.1', 'main.(*A).Run.func1', 'main.(*B).Run.func1'].map((name) => keyOf(renamed(name)));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('shows a nested literal as the function it is written in, its place there, and .*', () => {
    expect(fingerprint(renamed('main.foo.foo.func1.func2')).sides.flat()).toContain('main.foo.func1.*');
    expect(fingerprint(renamed('net.func·060')).sides.flat()).toContain('net.func60');
  });
});

describe('reports whose accesses name no function never share a key with another bug', () => {
  let reports: GoRaceReport[];
  beforeAll(async () => {
    // Three different bugs, each a real report.
    reports = await Promise.all(['logs/struct-field.log', 'logs/map-race.log', 'logs/closures.log'].map(firstReport));
  });
  const withoutAccessFrames = (report: GoRaceReport): GoRaceReport => {
    const copy = structuredClone(report);
    for (const access of copy.accesses) access.stack.frames = [];
    return copy;
  };

  it("without access frames, the goroutines' creation stacks key it: different bugs, different keys; the same bug again, the same key", () => {
    const stripped = reports.map((report) => fingerprint(reparse(withoutAccessFrames(report))));
    expect(stripped.map((f) => f.kind)).toEqual(['incomplete', 'incomplete', 'incomplete']);
    // All three start their goroutines in main.main: the creation sites' lines keep them apart.
    expect(new Set(stripped.map((f) => f.key)).size).toBe(3);
    expect(fingerprint(reparse(withoutAccessFrames(reports[0]!))).key).toBe(stripped[0]!.key);
    expect(stripped[0]!.title).toMatch(/^Data race \(incomplete report\)/);
    // What 0.1 did: one key for all of them.
    expect(new Set(reports.map((report) => goraceV1(withoutAccessFrames(report).accesses, DEFAULT_FINGERPRINT_OPTIONS).key)).size).toBe(1);
  });

  it('with no frame at all (cut right after the access lines), each report only matches itself', () => {
    const bare = reports.map((report) => {
      const copy = withoutAccessFrames(report);
      copy.creations = [];
      return reparse(copy);
    });
    const keys = bare.map(keyOf);
    expect(new Set(keys).size).toBe(3);
    expect(keyOf(reparse({ accesses: bare[0]!.accesses, creations: [] }))).toBe(keys[0]);
    expect(bare.map((report) => fingerprint(report).title)).toEqual(Array(3).fill('Data race (incomplete report, no stack printed)'));
  });

  it('the earlier key they all shared is kept only to learn what GitLab holds, never to join its issue', () => {
    const stripped = fingerprint(reparse(withoutAccessFrames(reports[0]!)));
    expect(stripped.lineage).toEqual([]);
    expect(stripped.formerShared).toEqual([goraceV1(withoutAccessFrames(reports[0]!).accesses, DEFAULT_FINGERPRINT_OPTIONS).key]);
  });
});

describe('half reports: one side lost or cut off', () => {
  let real: GoRaceReport;
  let complete: Fingerprint;
  beforeAll(async () => {
    real = await firstReport('logs/struct-field.log'); // Read in (*Store).Lookup, previous write in (*Store).Put
    complete = fingerprint(real);
  });

  it('[failed to restore the stack] on one side: keyed by the surviving side, which the complete report lists', () => {
    const report = structuredClone(real);
    report.accesses[1]!.stack = { frames: [], lost: true };
    const half = fingerprint(reparse(report));
    expect(half.kind).toBe('half');
    expect(half.key).toBe(sideKey(['soak.example/presence/session.(*Store).Lookup']));
    expect(complete.sideKeys).toContain(half.key);
    expect(half.unknownSides).toEqual([{ access: 'previous write', reason: 'lost' }]);
    expect(half.lineage).toEqual([goraceV1(report.accesses, DEFAULT_FINGERPRINT_OPTIONS).key]);
    expect(half.title).toBe('Data race: session.(*Store).Lookup / (other side unknown)');
  });

  it('cut off right after the previous access line, or inside its stack before an application frame: the same key', () => {
    const afterAccessLine =
      renderReport(real)
        .split('\n')
        .findIndex((line) => line.startsWith('Previous write')) + 1;
    const cutAtLine = reparse(real, { truncateAfterLine: afterAccessLine });
    const withRuntimeTop = structuredClone(real);
    withRuntimeTop.accesses[1]!.stack.frames.unshift(frame('runtime.mapassign_faststr', '/usr/lib/go/src/runtime/map_faststr.go', 203));
    const cutInRuntime = reparse(withRuntimeTop, { truncateAfterLine: afterAccessLine + 2 });
    for (const cut of [cutAtLine, cutInRuntime]) {
      expect(cut.truncated).toBe(true);
      const half = fingerprint(cut);
      expect(half.kind).toBe('half');
      expect(half.key).toBe(sideKey(['soak.example/presence/session.(*Store).Lookup']));
      expect(half.unknownSides).toEqual([{ access: 'previous write', reason: 'cut' }]);
    }
    // 0.1 keyed the second by the runtime frame it happened to print, a key no complete report has.
    expect(goraceV1(cutInRuntime.accesses, DEFAULT_FINGERPRINT_OPTIONS).key).not.toBe(complete.lineage[0]);
  });

  it('a report cut after the first frame of a side that names the racing function is complete (the cut lost only callers)', async () => {
    const [cut] = await occurrencesOf('logs/struct-field-truncated.derived.log');
    expect(cut!.truncated).toBe(true);
    expect(cut!.identity.kind).toBe('complete');
    expect(cut!.fingerprint).toBe(complete.key);
  });

  it('cut before its second access: half, the missing access named as such', () => {
    const report = reparse({ accesses: [real.accesses[0]!], creations: [] });
    const half = fingerprint(report);
    expect(half.kind).toBe('half');
    expect(half.unknownSides).toEqual([{ access: 'previous access', reason: 'not-printed' }]);
  });
});
