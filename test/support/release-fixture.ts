import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fingerprintInMarker, occurrenceIdsInMarkers } from '../../src/sink/gitlab/marker.js';
import type { ProjectSnapshot } from './gitlab-standin.js';

/** test/fixtures/release-0.1.0/: what racewatch 0.1.0 itself left in GitLab and in its state (see regenerate.ts there). */
export const RELEASE_FIXTURE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/release-0.1.0');

export interface ReleaseFixture {
  project: { id: number; path: string };
  /** Paths relative to the fixture directory, every log any run read. */
  logs: string[];
  gitlab: ProjectSnapshot;
  /** The state file's text, as the old release wrote it. */
  stateText: string;
  stateFileName: string;
}

interface Manifest {
  project: { id: number; path: string };
  runs: Array<{ logs: string[] }>;
}

interface SchemaTwoState {
  schema: number;
  pending: Array<{ id: string; fingerprint: string }>;
  inflight: { fingerprint: string; ids: string[] } | null;
}

export function loadReleaseFixture(): ReleaseFixture {
  const read = (name: string) => readFileSync(path.join(RELEASE_FIXTURE_DIR, name), 'utf8');
  const manifest = JSON.parse(read('manifest.json')) as Manifest;
  const stateFileName = 'gitlab-soak_svc.json';
  return {
    project: manifest.project,
    logs: manifest.runs.flatMap((run) => run.logs.map((log) => `logs/${log}`)),
    gitlab: JSON.parse(read('gitlab.json')) as ProjectSnapshot,
    stateText: read(path.join('state', stateFileName)),
    stateFileName,
  };
}

/** Occurrence id → the key the old release filed it under (issue markers, comments, pending sightings). */
export function keysTheReleaseGave(fixture: ReleaseFixture): Map<string, string> {
  const byId = new Map<string, string>();
  for (const issue of fixture.gitlab.issues) {
    const key = fingerprintInMarker(issue.description);
    if (key === null) continue;
    const bodies = [issue.description, ...issue.notes.map((note) => note.body)];
    for (const id of bodies.flatMap((body) => occurrenceIdsInMarkers(body))) byId.set(id, key);
  }
  const state = JSON.parse(fixture.stateText) as SchemaTwoState;
  for (const sighting of state.pending) byId.set(sighting.id, sighting.fingerprint);
  return byId;
}
