import type { RaceOccurrence } from '../pipeline/occurrence.js';

/** Where occurrences go once parsed and fingerprinted. `accept` resolves when the sink has taken it for good. */
export interface RaceSink {
  accept(occurrence: RaceOccurrence): Promise<void>;
  /** All input was read: write whatever summary the sink gives. */
  finish(): Promise<void>;
}

/**
 * A sink that keeps what it accepted across crashes. A reader may move its saved positions past an
 * occurrence only after `persist` resolved: that is the whole contract between sources and delivery.
 */
export interface DurableSink extends RaceSink {
  persist(): Promise<void>;
}
