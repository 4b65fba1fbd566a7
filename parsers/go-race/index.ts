import type { ReportFormat } from '../format.js';
import { goRaceDetails, goRaceFacts } from './facts.js';
import { createGoRaceParser, GO_RACE_MARKER } from './grammar.js';
import { fingerprintReport, racingTitle } from './key.js';
import type { GoRaceReport } from './model.js';

/** Go race detector reports: `WARNING: DATA RACE` ... `==================`. */
export const goRace: ReportFormat<GoRaceReport> = {
  name: 'go-race',
  needles: [GO_RACE_MARKER],
  createParser: createGoRaceParser,
  fingerprint: fingerprintReport,
  facts: goRaceFacts,
  details: goRaceDetails,
  title: racingTitle,
};
