import { issueToken } from '../../fingerprint/token.js';

/**
 * How racewatch recognises its issues: a hidden marker in the description (people retitle issues, so never
 * the title). GitLab search cannot see HTML comments or 64-hex words, so a short visible token is there to
 * narrow a search; every candidate is then checked against the hidden marker.
 */
const FINGERPRINT_MARKER = /<!-- racewatch:fingerprint (\S+) -->/;
const OCCURRENCES_MARKER = /<!-- racewatch:occurrences ([0-9a-f ]*) -->/g;

export function markerBlock(fingerprint: string, sides: string[][], occurrenceIds: string[]): string {
  const sidesJson = Buffer.from(JSON.stringify(sides)).toString('base64');
  return [
    `<sub>racewatch ${issueToken(fingerprint)}: keep the hidden marker below, or racewatch will no longer update this issue.</sub>`,
    '',
    `<!-- racewatch:fingerprint ${fingerprint} -->`,
    `<!-- racewatch:sides ${sidesJson} -->`,
    occurrencesMarker(occurrenceIds),
  ].join('\n');
}

export function occurrencesMarker(occurrenceIds: string[]): string {
  return `<!-- racewatch:occurrences ${occurrenceIds.join(' ')} -->`;
}

export function fingerprintInMarker(description: string | null | undefined): string | null {
  return FINGERPRINT_MARKER.exec(description ?? '')?.[1] ?? null;
}

export function occurrenceIdsInMarkers(text: string | null | undefined): string[] {
  return [...(text ?? '').matchAll(OCCURRENCES_MARKER)].flatMap((match) => match[1]!.split(' ').filter(Boolean));
}
