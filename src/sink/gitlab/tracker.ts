import { issueToken } from '../../fingerprint/token.js';
import type { GitlabApi, GitlabClient } from './client.js';
import { GitlabHttpError } from './errors.js';
import { fingerprintInMarker } from './marker.js';

/** The few facts about a GitLab issue the sink acts on. */
export interface TrackedIssue {
  iid: number;
  webUrl: string;
  state: 'opened' | 'closed';
  labels: string[];
  description: string;
  createdAt: string;
}

interface IssueEntity {
  iid: number;
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

function toTracked(entity: IssueEntity): TrackedIssue {
  return {
    iid: entity.iid,
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
    private readonly client: GitlabClient,
    private readonly labels: string[],
  ) {}

  private get project(): string {
    return this.client.project;
  }

  /** Creates the labels racewatch puts on issues, if the project lacks them. */
  async ensureLabels(): Promise<void> {
    for (const name of this.labels) {
      const existing = (await this.client.call('list labels', (api) =>
        api.ProjectLabels.all(this.project, { search: name }),
      )) as unknown as Array<{ name: string }>;
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

  /** Every issue whose hidden marker carries this fingerprint, oldest first; search results alone are never trusted. */
  async findByFingerprint(fingerprint: string): Promise<TrackedIssue[]> {
    return this.client.call('search issues', (api) => this.search(api, fingerprint));
  }

  private async search(api: GitlabApi, fingerprint: string): Promise<TrackedIssue[]> {
    const candidates = (await api.Issues.all({
        projectId: this.project,
        labels: this.labels.join(','),
        search: issueToken(fingerprint),
        in: 'description',
        state: 'all',
        orderBy: 'created_at',
        sort: 'asc',
        perPage: CANDIDATES_PER_LOOKUP,
        maxPages: 1,
      } as never)) as unknown as IssueEntity[];
    return candidates
      .map(toTracked)
      .filter((issue) => fingerprintInMarker(issue.description) === fingerprint)
      .sort((a, b) => a.iid - b.iid);
  }

  /** The issue, or null when it was deleted or moved out of reach. */
  async get(iid: number): Promise<TrackedIssue | null> {
    try {
      const entity = await this.client.call('read issue', (api) => api.Issues.show(iid, { projectId: this.project }));
      return toTracked(entity as unknown as IssueEntity);
    } catch (error) {
      if (error instanceof GitlabHttpError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Creates the issue. A failed attempt may still have created it (the answer was lost), so every retry
   * first looks for it: a retry never files a second issue.
   */
  async create(fingerprint: string, title: string, description: string): Promise<TrackedIssue> {
    let attempted = false;
    return this.client.call('create issue', async (api) => {
      if (attempted) {
        const [existing] = await this.search(api, fingerprint);
        if (existing) return existing;
      }
      attempted = true;
      const entity = await api.Issues.create(this.project, title, { description, labels: this.labels.join(',') });
      return toTracked(entity as unknown as IssueEntity);
    });
  }

  /**
   * Posts a comment. A failed attempt may still have been stored (the answer was lost), so every retry
   * first looks for a recent comment carrying the same occurrence ids.
   */
  async comment(iid: number, body: string, occurrenceIds: string[] = []): Promise<void> {
    let attempted = false;
    await this.client.call('comment', async (api) => {
      if (attempted && occurrenceIds.length > 0) {
        const bodies = await this.noteBodies(api, iid);
        if (bodies.some((existing) => occurrenceIds.every((id) => existing.includes(id)))) return;
      }
      attempted = true;
      await api.IssueNotes.create(this.project, iid, body);
    });
  }

  /** The bodies of the issue's latest notes, newest first. */
  async recentNoteBodies(iid: number): Promise<string[]> {
    return this.client.call('list comments', (api) => this.noteBodies(api, iid));
  }

  private async noteBodies(api: GitlabApi, iid: number): Promise<string[]> {
    const notes = (await api.IssueNotes.all(this.project, iid, {
      sort: 'desc',
      orderBy: 'created_at',
      perPage: 50,
      maxPages: 1,
    } as never)) as unknown as Array<{ body?: string }>;
    return notes.map((note) => note.body ?? '');
  }

  async setState(iid: number, stateEvent: 'close' | 'reopen'): Promise<void> {
    await this.client.call(`${stateEvent} issue`, (api) => api.Issues.edit(this.project, iid, { stateEvent }));
  }
}
