import { issueToken } from '../../fingerprint/token.js';
import type { GitlabApi, GitlabClient } from './client.js';
import { GitlabHttpError } from './errors.js';
import { answerKeysInMarker, sideKeysInMarker } from './marker.js';

/** The few facts about a GitLab issue the sink acts on. */
export interface TrackedIssue {
  iid: number;
  title: string;
  webUrl: string;
  state: 'opened' | 'closed';
  labels: string[];
  description: string;
  createdAt: string;
}

interface IssueEntity {
  iid: number;
  title?: string;
  web_url?: string;
  webUrl?: string;
  state: string;
  labels?: string[];
  description?: string | null;
  created_at?: string;
  createdAt?: string;
}

const LABEL_COLOR = '#d9534f';
const CANDIDATES_PER_LOOKUP = 100;
const RECENT_NOTE_PAGES = 5;

function toTracked(entity: IssueEntity): TrackedIssue {
  return {
    iid: entity.iid,
    title: entity.title ?? '',
    webUrl: entity.web_url ?? entity.webUrl ?? '',
    state: entity.state === 'closed' ? 'closed' : 'opened',
    labels: entity.labels ?? [],
    description: entity.description ?? '',
    createdAt: entity.created_at ?? entity.createdAt ?? '',
  };
}

/** GitLab operations on racewatch's issues in one project. */
export class IssueTracker {
  constructor(
    readonly client: GitlabClient,
    private readonly labels: string[],
  ) {}

  private get project(): string {
    return this.client.project;
  }

  /** Creates the labels racewatch puts on issues, if the project lacks them. */
  async ensureLabels(): Promise<void> {
    for (const name of this.labels) {
      const existing = (await this.client.call('list labels', (api) => api.ProjectLabels.all(this.project, { search: name }))) as unknown as Array<{
        name: string;
      }>;
      if (existing.some((label) => label.name === name)) continue;
      try {
        await this.client.call('create label', (api) =>
          api.ProjectLabels.create(this.project, name, LABEL_COLOR, { description: 'Data races found by racewatch' }),
        );
      } catch (error) {
        // Another box created it in the meantime.
        if (!(error instanceof GitlabHttpError && error.status === 409)) throw error;
      }
    }
  }

  /** Every issue whose hidden marker answers to one of these keys, oldest first; search results alone are never trusted. */
  async findAnswering(keys: string[]): Promise<TrackedIssue[]> {
    return this.findEach(keys, (issue, key) => answerKeysInMarker(issue.description).includes(key));
  }

  /** Every issue whose hidden marker lists this side key among the sides of the bugs it answers to. */
  async findContainingSide(sideKey: string): Promise<TrackedIssue[]> {
    return this.findEach([sideKey], (issue, key) => sideKeysInMarker(issue.description).includes(key));
  }

  private async findEach(keys: string[], keep: (issue: TrackedIssue, key: string) => boolean): Promise<TrackedIssue[]> {
    const found = new Map<number, TrackedIssue>();
    for (const key of new Set(keys)) {
      const candidates = await this.client.call('search issues', (api) => this.search(api, issueToken(key), 'description'));
      for (const issue of candidates) if (keep(issue, key)) found.set(issue.iid, issue);
    }
    return [...found.values()].sort((a, b) => a.iid - b.iid);
  }

  /** racewatch's issues (and any other with its labels) whose title contains these words. */
  async findByTitle(title: string): Promise<TrackedIssue[]> {
    return this.client.call('search issues', (api) => this.search(api, title, 'title'));
  }

  private async search(api: GitlabApi, words: string, field: 'title' | 'description'): Promise<TrackedIssue[]> {
    const candidates = (await api.Issues.all({
      projectId: this.project,
      labels: this.labels.join(','),
      search: words,
      in: field,
      state: 'all',
      orderBy: 'created_at',
      sort: 'asc',
      perPage: CANDIDATES_PER_LOOKUP,
      maxPages: 1,
    } as never)) as unknown as IssueEntity[];
    return candidates.map(toTracked);
  }

  /** Sends one create; the caller decides whether a failed attempt may be sent again (see exactly-once.ts). */
  async createOnce(title: string, description: string): Promise<TrackedIssue> {
    const entity = await this.client.attempt('create issue', (api) => api.Issues.create(this.project, title, { description, labels: this.labels.join(',') }));
    return toTracked(entity as unknown as IssueEntity);
  }

  /** Sends one note; the caller decides whether a failed attempt may be sent again (see exactly-once.ts). */
  async noteOnce(iid: number, body: string): Promise<void> {
    await this.client.attempt('comment', (api) => api.IssueNotes.create(this.project, iid, body));
  }

  /** The bodies of the issue's latest notes, newest first: enough to find a write of the last minutes. */
  async recentNoteBodies(iid: number): Promise<string[]> {
    return this.noteBodies(iid, { sort: 'desc', orderBy: 'created_at', perPage: 100, maxPages: RECENT_NOTE_PAGES });
  }

  /** Every note's body: what a box that lost its state reads to learn which sightings GitLab already has. */
  async allNoteBodies(iid: number): Promise<string[]> {
    return this.noteBodies(iid, { sort: 'asc', orderBy: 'created_at', perPage: 100 });
  }

  private async noteBodies(iid: number, query: object): Promise<string[]> {
    const notes = (await this.client.call('list comments', (api) => api.IssueNotes.all(this.project, iid, query as never))) as unknown as Array<{
      body?: string;
      system?: boolean;
    }>;
    return notes.filter((note) => !note.system).map((note) => note.body ?? '');
  }

  /** A new description for racewatch's block (keys added to its marker); sending it again changes nothing. */
  async editDescription(iid: number, description: string): Promise<void> {
    await this.client.call('record keys in issue', (api) => api.Issues.edit(this.project, iid, { description }));
  }

  /** Rewrites the description and closes in one request, so a duplicate is never left half moved. */
  async closeWithDescription(iid: number, description: string): Promise<void> {
    await this.client.call('close duplicate issue', (api) => api.Issues.edit(this.project, iid, { description, stateEvent: 'close' }));
  }

  async setState(iid: number, stateEvent: 'close' | 'reopen'): Promise<void> {
    await this.client.call(`${stateEvent} issue`, (api) => api.Issues.edit(this.project, iid, { stateEvent }));
  }
}
