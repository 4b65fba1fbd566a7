/**
 * Closure names as a key that survives Go upgrades.
 *
 * The compiler names a function literal after the function it is written in plus a counter, and how it does so
 * changed across releases (what racewatch saw from real programs built with 1.19, 1.21, 1.22, 1.23, 1.24 and
 * 1.26 is in the README, "Closures across Go releases"):
 *
 * - nested literals: `main.foo.func1.1` (1.19, and every release for literals that are not inlined),
 *   `main.foo.func1.func2` (unified IR);
 * - a literal copied by inlining carries the inlining stack (1.21+): `main.bar.func1.bar.func1.1.2`,
 *   `main.main.func1.foo.1.1`; since 1.24 the enclosing function comes twice: `main.foo.foo.func1.func2`,
 *   `main.(*S).Run.(*S).Run.func1.func2.1`;
 * - range-over-func loop bodies (1.23+): `main.f-range1`, `main.f.func1-range1`;
 * - package-level literals: `main.glob..func1` (to 1.21), `main.init.func1` (later);
 * - before Go 1.5: `pkg.func·001`, numbered per package.
 *
 * What stays put is the function the literal is written in (the last run of named segments before the trailing
 * closure counters, written once) and the literal's place among that function's own literals (its first
 * counter). The counters of nested literals do not stay put, so a nested literal keeps only the first counter and
 * a `.*` saying it is nested: `main.foo.func1.*` for all of `main.foo.func1.1`, `main.foo.func1.func2`,
 * `main.foo.foo.func1.func2`. Two literals written side by side in one function stay two (`func1`, `func2`);
 * two literals nested in the same one become one.
 */

const OLD_CLOSURE = /^func[·.](\d+)$/;
const COUNTER = /^(?:func)?(\d+)$/;
const RANGE_SUFFIX = /-range(\d+)/g;

type Token = { named: string } | { counter: number } | { range: number };

/** A normalized function name (no `·`, no type arguments) as it stands for its closure across Go releases. */
export function closureKey(pkg: string, rest: string): string {
  const tokens = tokensOf(rest);
  const chainStart = trailingChainStart(tokens);
  if (chainStart === tokens.length) return `${pkg}.${rest}`;
  const definer = definerBefore(tokens, chainStart);
  const chain = tokens.slice(chainStart);
  const first = chain[0]!;
  const place = 'counter' in first ? `.func${first.counter}` : `-range${(first as { range: number }).range}`;
  const nested = chain.length > 1 ? '.*' : '';
  return [pkg, ...definer].join('.') + place + nested;
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

function trailingChainStart(tokens: Token[]): number {
  let start = tokens.length;
  while (start > 0 && !('named' in tokens[start - 1]!)) start -= 1;
  return start;
}

/** The function the literal is written in: the named segments just before the counters, said once. */
function definerBefore(tokens: Token[], chainStart: number): string[] {
  let start = chainStart;
  while (start > 0 && 'named' in tokens[start - 1]!) start -= 1;
  const names = tokens.slice(start, chainStart).map((token) => (token as { named: string }).named);
  return sayOnce(names);
}

/** 1.24 writes the enclosing function twice (`foo.foo`, `(*S).Run.(*S).Run`). */
function sayOnce(names: string[]): string[] {
  const half = names.length / 2;
  if (Number.isInteger(half) && half > 0 && names.slice(0, half).join('.') === names.slice(half).join('.')) return names.slice(0, half);
  return names;
}
