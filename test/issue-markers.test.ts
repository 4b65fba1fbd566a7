import { describe, expect, it } from 'vitest';
import { issueToken } from '../src/fingerprint/token.js';
import { answerKeysInMarker, fingerprintInMarker, markerBlock, occurrenceIdsInMarkers, sideKeysInMarker, withKeysAdded } from '../src/sink/gitlab/marker.js';
import { indexTokens } from './support/gitlab-standin/search.js';

const key = (n: number) => `gorace-v2:${String(n).repeat(64).slice(0, 64)}`;
const V1 = `gorace-v1:${'ab'.repeat(32)}`;

/** An issue as racewatch 0.1 wrote it: its block has the fingerprint marker, no keys marker. */
const releaseZeroOne = [
  'A person wrote this line above the report.',
  '',
  '```text',
  'WARNING: DATA RACE',
  '```',
  '',
  `<sub>racewatch ${issueToken(V1)}: keep the hidden marker below, or racewatch will no longer update this issue.</sub>`,
  '',
  `<!-- racewatch:fingerprint ${V1} -->`,
  '<!-- racewatch:sides W10= -->',
  '<!-- racewatch:delivery 0123456789abcdef -->',
  '<!-- racewatch:occurrences aaaa bbbb -->',
].join('\n');

describe('the keys an issue answers to', () => {
  it('an issue filed by 0.1 answers to its fingerprint alone; adding keys keeps everything else, and the tokens become searchable', () => {
    expect(answerKeysInMarker(releaseZeroOne)).toEqual([V1]);
    const added = withKeysAdded(releaseZeroOne, [key(1), V1], [key(2), key(3)])!;
    expect(answerKeysInMarker(added)).toEqual([V1, key(1)]);
    expect(sideKeysInMarker(added)).toEqual([key(2), key(3)]);
    expect(fingerprintInMarker(added)).toBe(V1);
    expect(occurrenceIdsInMarkers(added)).toEqual(['aaaa', 'bbbb']);
    expect(added.split('```').slice(0, -1)).toEqual(releaseZeroOne.split('```').slice(0, -1));
    const searchable = indexTokens(added);
    for (const k of [V1, key(1), key(2), key(3)]) expect(searchable).toContain(issueToken(k));
  });

  it('adding keys it has changes nothing (null), and adding more merges, each once', () => {
    const once = withKeysAdded(releaseZeroOne, [key(1)], [])!;
    expect(withKeysAdded(once, [key(1), V1], [])).toBeNull();
    const twice = withKeysAdded(once, [key(4)], [key(2)])!;
    expect(answerKeysInMarker(twice)).toEqual([V1, key(1), key(4)]);
    expect(twice.match(/racewatch:keys/g)).toHaveLength(1);
    expect(twice.match(/<sub>racewatch/g)).toHaveLength(1);
  });

  it('an issue whose marker a person removed, or marker text quoted inside the report, is left alone', () => {
    expect(withKeysAdded('a plain issue', [key(1)], [])).toBeNull();
    const quoted = `\`\`\`text\n<!-- racewatch:fingerprint ${V1} -->\n\`\`\`\nno marker after the fence`;
    expect(answerKeysInMarker(quoted)).toEqual([]);
    expect(withKeysAdded(quoted, [key(1)], [])).toBeNull();
  });

  it('a new issue answers to every key it is given, the fingerprint first', () => {
    const block = markerBlock({
      fingerprint: key(1),
      keys: [key(1), V1],
      sideKeys: [key(2)],
      sides: [],
      occurrenceIds: ['x'],
      deliveryId: 'd',
      supersedes: null,
    });
    expect(answerKeysInMarker(block)).toEqual([key(1), V1]);
    expect(sideKeysInMarker(block)).toEqual([key(2)]);
    expect(block.split('\n')[0]).toBe(
      `<sub>racewatch ${issueToken(key(1))} (also ${issueToken(V1)}) (sides ${issueToken(key(2))}): keep the hidden marker below, or racewatch will no longer update this issue.</sub>`,
    );
  });
});
