import type { BugLookup, Sighting } from '../../state/sink-state.js';
import { incompleteNotice, racingFunctionsOf } from './incomplete-text.js';
import { clip, codeBlock, inlineCode } from './markdown.js';
import { deliveryMarker, markerBlock, occurrencesMarker, withSightingsMovedTo } from './marker.js';

const REPORT_CHARS = 60_000;
const LIST_SHOWN = 10;

export function issueDescription(sightings: Sighting[], previousIssue: number | null, deliveryId: string, bug: BugLookup): string {
  const first = sightings[0]!;
  const lines = [
    ...(previousIssue === null ? [] : [`This race was seen again after #${previousIssue} was closed.`, '']),
    'racewatch found a data race in a `-race` build.',
    '',
    `- **Racing functions:** ${racingFunctionsOf(first, (names) => names.map(inlineCode).join(' and '))}`,
    `- **First seen:** ${first.seenAt} on ${inlineCode(first.host)}, ${inlineCode(first.source)} line ${first.line}`,
    ...(first.creationSites.length > 0 ? [`- **Goroutines created at:** ${first.creationSites.map(inlineCode).join('; ')}`] : []),
    `- **Sightings so far:** ${sightings.length}${first.truncated ? ' (the report below was cut off in the log)' : ''}`,
    '',
    ...incompleteNotice(first, false),
    codeBlock(clip(first.text, REPORT_CHARS)),
    '',
    markerBlock({
      fingerprint: first.fingerprint,
      keys: bug.keys,
      sideKeys: bug.kind === 'complete' ? bug.sideKeys : [],
      sides: first.sides,
      occurrenceIds: sightings.map((s) => s.id),
      deliveryId,
      supersedes: previousIssue,
    }),
  ];
  return lines.join('\n');
}

export type CommentReason = 'seen-again' | 'came-back';

export function sightingsComment(sightings: Sighting[], reason: CommentReason, deliveryId: string): string {
  const latest = sightings[sightings.length - 1]!;
  const times = sightings.map((s) => s.seenAt).sort();
  const hosts = distinct(sightings.map((s) => s.host));
  const sources = distinct(sightings.map((s) => s.source));
  const lead = {
    'seen-again': 'Seen again',
    'came-back': 'This race came back after the issue was closed',
  }[reason];
  return [
    `${lead}: **${sightings.length}** time(s) between ${times[0]} and ${times[times.length - 1]}.`,
    '',
    `- **Hosts:** ${shortList(hosts)}`,
    `- **Logs:** ${shortList(sources)}`,
    '',
    ...incompleteNotice(latest, true),
    `<details><summary>Latest report (${inlineCode(latest.source)} line ${latest.line}, ${inlineCode(latest.host)}, ${latest.seenAt})</summary>`,
    '',
    codeBlock(clip(latest.text, REPORT_CHARS)),
    '',
    '</details>',
    '',
    deliveryMarker(deliveryId),
    occurrencesMarker(sightings.map((s) => s.id)),
  ].join('\n');
}

/** The note that carries a duplicate issue's sightings over to the canonical one. */
export function movedSightingsComment(duplicateIid: number, occurrenceIds: string[], deliveryId: string): string {
  return [
    `Seen on another box at the same moment, which filed #${duplicateIid}: **${occurrenceIds.length}** sighting(s), now counted here. ` +
      `#${duplicateIid} is closed as a duplicate of this issue; its report is there.`,
    '',
    deliveryMarker(deliveryId),
    occurrencesMarker(occurrenceIds),
  ].join('\n');
}

/** A duplicate's description once its sightings moved: a visible pointer first, the markers updated. */
export function movedDescription(description: string, canonicalIid: number): string {
  const notice = `**Duplicate of #${canonicalIid}**: racewatch on another box filed the same race at the same moment. Its sightings are counted on #${canonicalIid}.`;
  return `${notice}\n\n${withSightingsMovedTo(description, canonicalIid)}`;
}

function distinct(values: string[]): string[] {
  return [...new Set(values)];
}

function shortList(values: string[]): string {
  const shown = values.slice(0, LIST_SHOWN).map(inlineCode).join(', ');
  return values.length > LIST_SHOWN ? `${shown} and ${values.length - LIST_SHOWN} more` : shown;
}
