/** Exit statuses, documented in the README; scripts and CI gates depend on them. */
export const EXIT = {
  ok: 0,
  /** Only with --exit-code: the scan worked and found races. */
  racesFound: 1,
  /** Bad usage, bad configuration, or an input that could not be read. */
  inputError: 2,
  /** GitLab could not be reached or refused some sightings: they are pending in the state store for the next run. */
  deliveryIncomplete: 3,
} as const;
