import type { ProjectSnapshot } from './snapshot.js';

export interface StandinOptions {
  token?: string;
  projects?: Array<{ id: number; path: string }>;
  /** Full paths that exist but answer 403 to every request. */
  forbiddenProjects?: string[];
}

export interface Fault {
  method?: string;
  /** Tested against the path as sent (e.g. /api/v4/projects/soak%2Fsvc/issues) and against its decoded form. */
  path?: RegExp;
  /** A status below 400 means "no error": the request is delayed by delayMs and then served normally. */
  status: number;
  /** Default 1; use Infinity for a permanent fault. */
  times?: number;
  retryAfterSeconds?: number;
  body?: string;
  /** Destroys the socket before serving: the request never takes effect and no answer arrives. */
  dropConnection?: boolean;
  /**
   * Serves the request (it takes effect, as if GitLab processed it) and then destroys the socket instead of
   * answering: the client sees a network error although the write happened. `status` is ignored.
   */
  dropAfterServing?: boolean;
  delayMs?: number;
}

export type FlakyKind = 'error500' | 'error502' | 'dropConnection' | 'dropAfterServing' | 'rateLimited' | 'slowWrite';

/**
 * Seeded random faults (see setFlaky). error500/error502: that status with GitLab's message, nothing done;
 * dropConnection/dropAfterServing: as the Fault fields of those names; rateLimited: 429 with Retry-After: 1;
 * slowWrite (POST and PUT only): served normally after a delay drawn from slowWriteMs.
 */
export interface FlakyMode {
  /** Seeds the PRNG that decides which requests are hit and by what. */
  seed: number;
  /** Probability, 0..1, that a request is hit by one of `kinds`. */
  rate: number;
  kinds: FlakyKind[];
  /** For 'slowWrite': the delay, uniformly drawn from [min, max] ms. Default [1000, 3000]. */
  slowWriteMs?: [number, number];
}

export interface RecordedRequest {
  method: string;
  /** Path as sent on the wire, percent-encoding kept, without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
}

export interface StoredLabel {
  id: number;
  projectId: number;
  name: string;
  color: string;
  description: string | null;
}

export interface StoredIssue {
  id: number;
  iid: number;
  projectId: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  labels: string[];
  assignees: string[];
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: string | null;
}

export interface StoredNote {
  id: number;
  projectId: number;
  issueIid: number;
  body: string;
  author: string;
  system: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface QuickActionRecord {
  projectId: number;
  issueIid: number;
  source: 'description' | 'note';
  command: string;
  arg: string | null;
  /** False when GitLab would have refused it (e.g. /close on a closed or not yet created issue). */
  applied: boolean;
}

export interface GitlabStandin {
  url: string;
  token: string;
  requests: RecordedRequest[];
  /** Every quick action the stand-in recognised and removed from a description or note. */
  quickActions: QuickActionRecord[];
  issues(projectId?: number): StoredIssue[];
  notes(projectId: number, iid: number): StoredNote[];
  labels(projectId?: number): StoredLabel[];
  injectFault(f: Fault): void;
  /** Disarms every injected fault, including permanent ones (`times: Infinity`). */
  clearFaults(): void;
  /** Until restoreToken(), every request (any path, any token) answers 401 {"message":"401 Unauthorized"}. */
  revokeToken(): void;
  restoreToken(): void;
  /** Seeded random faults on every request not already hit by an injected fault; null turns them off. */
  setFlaky(mode: FlakyMode | null): void;
  /** How many requests each kind hit under the mode setFlaky was last given (zeros before any). */
  flakyHits(): Record<FlakyKind, number>;
  /**
   * Every POST and PUT (whose path matches `path`, if given) answers `status` with GitLab's message for it
   * and takes no effect; null serves writes again.
   */
  refuseWrites(status: number | null, path?: RegExp): void;
  /** Resolves once no request is being handled (a delayed write has landed or been dropped). */
  whenIdle(): Promise<void>;
  /** Everything the project holds (labels, issues, notes), as loadProject takes it. */
  dumpProject(projectId: number): ProjectSnapshot;
  /** Starts the project with issues GitLab already had (e.g. filed by an earlier racewatch), iids and times kept. */
  loadProject(projectId: number, snapshot: ProjectSnapshot): void;
  closeIssue(projectId: number, iid: number): void;
  editIssue(projectId: number, iid: number, patch: Partial<{ title: string; description: string; labels: string[] }>): void;
  close(): Promise<void>;
}
