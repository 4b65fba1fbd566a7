import type { Sighting } from '../../state/sink-state.js';
import { clip, codeBlock, inlineCode } from './markdown.js';
import { markerBlock, occurrencesMarker } from './marker.js';

const REPORT_CHARS = 60_000;
const LIST_SHOWN = 10;

export function issueDescription(sightings: Sighting[], previousIssue: number | null): string {
  const first = sightings[0]!;
  const lines = [
    ...(previousIssue === null ? [] : [`This race was seen again after #${previousIssue} was closed.`, '']),
    'racewatch found a data race in a `-race` build.',
    '',
    `- **Racing functions:** ${first.racingFrames.map(inlineCode).join(' and ')}`,
    `- **First seen:** ${first.seenAt} on ${inlineCode(first.host)}, ${inlineCode(first.source)} line ${first.line}`,
    ...(first.creationSites.length > 0 ? [`- **Goroutines created at:** ${first.creationSites.map(inlineCode).join('; ')}`] : []),
    `- **Sightings so far:** ${sightings.length}${first.truncated ? ' (the report below was cut off in the log)' : ''}`,
    '',
    codeBlock(clip(first.text, REPORT_CHARS)),
    '',
    markerBlock(first.fingerprint, first.sides, sightings.map((s) => s.id)),
  ];
  return lines.join('\n');
}

export type CommentReason = 'seen-again' | 'came-back' | 'duplicate-filed';

export function sightingsComment(sightings: Sighting[], reason: CommentReason): string {
  const latest = sightings[sightings.length - 1]!;
  const times = sightings.map((s) => s.seenAt).sort();
  const hosts = distinct(sightings.map((s) => s.host));
  const sources = distinct(sightings.map((s) => s.source));
  const lead = {
    'seen-again': 'Seen again',
    'came-back': 'This race came back after the issue was closed',
    'duplicate-filed': 'Seen on another box at the same time (its issue was closed as a duplicate of this one)',
  }[reason];
  return [
    `${lead}: **${sightings.length}** time(s) between ${times[0]} and ${times[times.length - 1]}.`,
    '',
    `- **Hosts:** ${shortList(hosts)}`,
    `- **Logs:** ${shortList(sources)}`,
    '',
    `<details><summary>Latest report (${inlineCode(latest.source)} line ${latest.line}, ${inlineCode(latest.host)}, ${latest.seenAt})</summary>`,
    '',
    codeBlock(clip(latest.text, REPORT_CHARS)),
    '',
    '</details>',
    '',
    occurrencesMarker(sightings.map((s) => s.id)),
  ].join('\n');
}

export function duplicateComment(canonicalIid: number): string {
  return `Duplicate of #${canonicalIid}: racewatch on another box filed the same race first. Closing this one; sightings go to #${canonicalIid}.`;
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function shortList(values: string[]): string {
  const shown = values.slice(0, LIST_SHOWN).map(inlineCode).join(', ');
  return values.length > LIST_SHOWN ? `${shown} and ${values.length - LIST_SHOWN} more` : shown;
}
