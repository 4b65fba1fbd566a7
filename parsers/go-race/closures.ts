/**
 * Closure names as a key that survives Go upgrades.
 *
 * The compiler names a function literal after the function it is written in plus a counter, and how it does so
 * changed across releases (what racewatch saw from real programs built with 1.19 to 1.26 is in the README,
 * "Closures across Go releases", and in samples/):
 *
 * - nested literals: `main.foo.func1.1` (1.19, and every release for literals that are not inlined),
 *   `main.foo.func1.func2` (unified IR);
 * - a literal copied by inlining carries the inlining stack (1.21+): `main.invoice.func1.charge.func1`,
 *   `main.invoice.func1.charge.1`, where 1.19 printed `main.invoice.func1.1`; since 1.24 the enclosing function
 *   comes twice: `main.foo.foo.func1.func2`, `main.(*S).Run.(*S).Run.func1.func2.1`;
 * - 1.19 numbers a literal called in place inside another flat: `main.settle.func2` for what 1.21+ prints as
 *   `main.settle.settle.func1.func2` (see nestedUnderCaller);
 * - range-over-func loop bodies (1.23+): `main.f-range1`, `main.f.func1-range1`;
 * - package-level literals: `main.glob..func1` (to 1.21), `main.init.func1` (later);
 * - before Go 1.5: `pkg.func·001`, numbered per package.
 *
 * What every release keeps is the outermost function the name starts with (written once) and the literal's place
 * among that function's own literals (its first counter): a literal written there keeps that name, and one nested
 * in it, or copied into it by inlining, is `.*` under it. So `main.foo.func1.*` stands for `main.foo.func1.1`,
 * `main.foo.func1.func2`, `main.foo.foo.func1.func2`, and `main.invoice.func1.*` for the three names of the
 * literal of `charge` inlined into `invoice.func1`. Two literals written side by side in one function stay two
 * (`func1`, `func2`); two nested in the same one become one. The cost: a literal whose function one build
 * inlines and another does not (the function grew past the inliner's budget, or another release decides
 * otherwise) gets a key of each.
 */

const OLD_CLOSURE = /^func[·.](\d+)$/;
const COUNTER = /^(?:func)?(\d+)$/;
const RANGE_SUFFIX = /-range(\d+)/g;

type Token = { named: string } | { counter: number } | { range: number };

/** A normalized function name (no `·`, no type arguments) as it stands for its closure across Go releases. */
export function closureKey(pkg: string, rest: string): string {
  const tokens = tokensOf(rest);
  const chainStart = tokens.findIndex((token) => !('named' in token));
  if (chainStart === -1) return `${pkg}.${rest}`;
  const outer = sayOnce(tokens.slice(0, chainStart).map((token) => (token as { named: string }).named));
  const first = tokens[chainStart]!;
  const place = 'counter' in first ? `.func${first.counter}` : `-range${(first as { range: number }).range}`;
  const nested = chainStart < tokens.length - 1 ? '.*' : '';
  return [pkg, ...outer].join('.') + place + nested;
}

/**
 * Go 1.19 numbers a literal called in place inside another literal as a sibling (`main.settle.func2` called
 * by `main.settle.func1`). The frame that called it shows the nesting: a literal whose caller is another
 * literal of the same function is keyed as nested in that one (`main.settle.func1.*`), as 1.21+ names it.
 * Takes and gives closure keys.
 */
export function nestedUnderCaller(key: string, callerKey: string | undefined): string {
  const flat = /^(.*)\.func\d+$/.exec(key);
  const caller = callerKey === undefined ? null : /^(.*\.func\d+)(?:\.\*)?$/.exec(callerKey);
  if (!flat || !caller || caller[1] === key || !caller[1]!.startsWith(`${flat[1]}.func`)) return key;
  return `${caller[1]}.*`;
}

function tokensOf(rest: string): Token[] {
  const old = OLD_CLOSURE.exec(rest);
  if (old) return [{ counter: Number(old[1]) }];
  const modern = rest.startsWith('glob..') ? `init.${rest.slice('glob..'.length)}` : rest;
  return modern.split('.').flatMap(segmentTokens);
}

function segmentTokens(segment: string): Token[] {
  const ranges = [...segment.matchAll(RANGE_SUFFIX)].map((match): Token => ({ range: Number(match[1]) }));
  const base = segment.replace(RANGE_SUFFIX, '');
  const counter = COUNTER.exec(base);
  const head: Token[] = base === '' ? [] : counter ? [{ counter: Number(counter[1]) }] : [{ named: base }];
  return [...head, ...ranges];
}

/** 1.24 writes the enclosing function twice (`foo.foo`, `(*S).Run.(*S).Run`). */
function sayOnce(names: string[]): string[] {
  const half = names.length / 2;
  if (Number.isInteger(half) && half > 0 && names.slice(0, half).join('.') === names.slice(half).join('.')) return names.slice(0, half);
  return names;
}
