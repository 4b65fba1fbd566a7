import { describe, expect, it } from 'vitest';
import { DEFAULT_FINGERPRINT_OPTIONS, type FingerprintOptions } from '../src/fingerprint/fingerprint.js';
import { issueToken } from '../src/fingerprint/token.js';
import { DEFAULT_EXTRACT, occurrencesOf } from './support/samples.js';

const withOptions = (options: Partial<FingerprintOptions>) => ({
  ...DEFAULT_EXTRACT,
  fingerprint: { ...DEFAULT_FINGERPRINT_OPTIONS, ...options },
});

describe('fingerprint options', () => {
  it('depth 1 (default) merges one race reached through two call paths; depth 2 tells the paths apart', async () => {
    const [viaApi, viaBatch] = await occurrencesOf('logs/two-callers.log');
    expect(viaApi!.fingerprint).toBe(viaBatch!.fingerprint);
    const [deepApi, deepBatch] = await occurrencesOf('logs/two-callers.log', withOptions({ depth: 2 }));
    expect(deepApi!.fingerprint).not.toBe(deepBatch!.fingerprint);
    expect(deepApi!.sides.map((side) => side.length)).toEqual([2, 2]);
  });

  it('a skipped helper is passed over for the next application frame', async () => {
    const [plain] = await occurrencesOf('logs/two-callers.log');
    const [skipped] = await occurrencesOf('logs/two-callers.log', withOptions({ skipFunctions: [/\(\*Account\)\.Deposit$/] }));
    expect(plain!.sides.flat()).toContain('soak.example/ledger/account.(*Account).Deposit');
    expect(skipped!.sides.flat()).toContain('soak.example/ledger/api.HandleTransfer');
    expect(skipped!.fingerprint).not.toBe(plain!.fingerprint);
  });

  it('with application modules set, other packages are skipped like the standard library (main stays application code)', async () => {
    const [onlyMain] = await occurrencesOf('logs/two-callers.log', withOptions({ appModules: ['soak.example/elsewhere'] }));
    expect(onlyMain!.sides.flat().every((name) => name.startsWith('main.'))).toBe(true);
    const [ledger] = await occurrencesOf('logs/two-callers.log', withOptions({ appModules: ['soak.example/ledger'] }));
    expect(ledger!.sides.flat()).toEqual(['soak.example/ledger/account.(*Account).Balance', 'soak.example/ledger/account.(*Account).Deposit']);
  });

  it('titles use short package names and the visible token is 16 hex digits of the key', async () => {
    const [occurrence] = await occurrencesOf('logs/two-callers.log');
    expect(occurrence!.title).toBe('Data race: account.(*Account).Balance / account.(*Account).Deposit');
    expect(issueToken(occurrence!.fingerprint)).toBe(`race-${occurrence!.fingerprint.slice('gorace-v2:'.length, 'gorace-v2:'.length + 16)}`);
  });
});
