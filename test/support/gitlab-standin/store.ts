import type { QuickActionRecord, StoredIssue, StoredLabel, StoredNote } from './types.js';

export const BOT_USERNAME = 'standin-bot';
export const HUMAN_USERNAME = 'human-maintainer';
// Labels::FindOrCreateService creates missing labels with Label::DEFAULT_COLOR.
export const DEFAULT_LABEL_COLOR = '#6699cc';

export interface StoredProject {
  id: number;
  path: string;
  forbidden: boolean;
  createdAt: string;
}

export interface StoredUser {
  id: number;
  username: string;
}

export interface IssueChanges {
  title?: string;
  description?: string | null;
  labels?: string[];
  addLabels?: string[];
  removeLabels?: string[];
  assignees?: string[];
  stateEvent?: 'close' | 'reopen';
}

export class Store {
  readonly projects: StoredProject[];
  readonly labels: StoredLabel[] = [];
  readonly issues: StoredIssue[] = [];
  readonly notes: StoredNote[] = [];
  readonly quickActions: QuickActionRecord[] = [];
  private readonly users = new Map<string, StoredUser>();
  private lastTimestamp = 0;
  // Separate id ranges so that a client mixing up issue id and iid, or note and issue ids, gets caught.
  private nextId = { issue: 9001, note: 70001, label: 301, user: 1 };

  constructor(projects: Array<{ id: number; path: string }>, forbiddenPaths: string[]) {
    this.projects = projects.map((p) => ({ ...p, forbidden: false, createdAt: this.now() }));
    this.user(BOT_USERNAME);
    this.user(HUMAN_USERNAME);
    for (const path of forbiddenPaths) this.markForbidden(path);
  }

  /** Strictly increasing timestamps, so ordering by created_at/updated_at is deterministic. */
  now(): string {
    this.lastTimestamp = Math.max(Date.now(), this.lastTimestamp + 1);
    return new Date(this.lastTimestamp).toISOString();
  }

  findProject(ref: string): StoredProject | undefined {
    if (/^\d+$/.test(ref)) return this.projects.find((p) => p.id === Number(ref));
    // Project.find_by_full_path is case-insensitive.
    return this.projects.find((p) => p.path.toLowerCase() === ref.toLowerCase());
  }

  user(username: string): StoredUser {
    let user = this.users.get(username);
    if (!user) {
      user = { id: this.nextId.user++, username };
      this.users.set(username, user);
    }
    return user;
  }

  projectLabels(projectId: number): StoredLabel[] {
    return this.labels.filter((l) => l.projectId === projectId).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  findLabel(projectId: number, name: string): StoredLabel | undefined {
    return this.labels.find((l) => l.projectId === projectId && l.name === name);
  }

  createLabel(projectId: number, name: string, color: string, description: string | null): StoredLabel {
    const label = { id: this.nextId.label++, projectId, name, color, description };
    this.labels.push(label);
    return label;
  }

  ensureLabels(projectId: number, names: string[]): void {
    for (const name of names) {
      if (!this.findLabel(projectId, name)) this.createLabel(projectId, name, DEFAULT_LABEL_COLOR, null);
    }
  }

  projectIssues(projectId: number): StoredIssue[] {
    return this.issues.filter((i) => i.projectId === projectId);
  }

  findIssue(projectId: number, iid: number): StoredIssue | undefined {
    return this.issues.find((i) => i.projectId === projectId && i.iid === iid);
  }

  nextIid(projectId: number): number {
    return Math.max(0, ...this.projectIssues(projectId).map((i) => i.iid)) + 1;
  }

  createIssue(projectId: number, title: string, description: string | null, author: string): StoredIssue {
    const createdAt = this.now();
    const issue: StoredIssue = {
      id: this.nextId.issue++,
      iid: this.nextIid(projectId),
      projectId,
      title,
      description,
      state: 'opened',
      labels: [],
      assignees: [],
      author,
      createdAt,
      updatedAt: createdAt,
      closedAt: null,
      closedBy: null,
    };
    this.issues.push(issue);
    return issue;
  }

  /** Applies changes the way Issues::UpdateService does; returns whether anything changed. */
  updateIssue(issue: StoredIssue, changes: IssueChanges, actor: string, { touch = true } = {}): boolean {
    const before = JSON.stringify(issue);
    if (changes.title !== undefined) issue.title = changes.title;
    if (changes.description !== undefined) issue.description = changes.description;
    if (changes.assignees !== undefined) issue.assignees = [...new Set(changes.assignees)];
    issue.labels = this.nextLabels(issue, changes);
    if (changes.stateEvent === 'close' && issue.state === 'opened') this.markClosed(issue, actor);
    if (changes.stateEvent === 'reopen' && issue.state === 'closed') this.markReopened(issue);
    const changed = JSON.stringify(issue) !== before;
    if (changed && touch) issue.updatedAt = this.now();
    return changed;
  }

  /** An issue GitLab already had (a fixture): its iid and times are kept, later timestamps stay after them. */
  importIssue(projectId: number, fields: Omit<StoredIssue, 'id' | 'projectId'>): StoredIssue {
    const issue: StoredIssue = { ...fields, id: this.nextId.issue++, projectId };
    this.ensureLabels(projectId, issue.labels);
    this.issues.push(issue);
    this.keepAfter(issue.createdAt, issue.updatedAt, issue.closedAt);
    return issue;
  }

  importNote(projectId: number, issueIid: number, note: Pick<StoredNote, 'body' | 'author' | 'system' | 'createdAt'>): StoredNote {
    const stored = { ...note, id: this.nextId.note++, projectId, issueIid, updatedAt: note.createdAt };
    this.notes.push(stored);
    this.keepAfter(note.createdAt);
    return stored;
  }

  private keepAfter(...times: Array<string | null>): void {
    for (const time of times) if (time !== null) this.lastTimestamp = Math.max(this.lastTimestamp, Date.parse(time));
  }

  touch(issue: StoredIssue): void {
    issue.updatedAt = this.now();
  }

  issueNotes(projectId: number, iid: number): StoredNote[] {
    return this.notes.filter((n) => n.projectId === projectId && n.issueIid === iid);
  }

  addNote(issue: StoredIssue, body: string, author: string): StoredNote {
    const createdAt = this.now();
    const note = { id: this.nextId.note++, projectId: issue.projectId, issueIid: issue.iid, body, author, system: false, createdAt, updatedAt: createdAt };
    this.notes.push(note);
    this.touch(issue); // Note belongs_to :noteable, touch: true
    return note;
  }

  private nextLabels(issue: StoredIssue, changes: IssueChanges): string[] {
    const added = [...(changes.labels ?? []), ...(changes.addLabels ?? [])];
    this.ensureLabels(issue.projectId, added);
    const base = changes.labels ?? issue.labels;
    const removed = new Set(changes.removeLabels ?? []);
    return [...new Set([...base, ...(changes.addLabels ?? [])])].filter((l) => !removed.has(l)).sort();
  }

  private markClosed(issue: StoredIssue, actor: string): void {
    issue.state = 'closed';
    issue.closedAt = this.now();
    issue.closedBy = actor;
  }

  private markReopened(issue: StoredIssue): void {
    issue.state = 'opened';
    issue.closedAt = null;
    issue.closedBy = null;
  }

  private markForbidden(path: string): void {
    const existing = this.findProject(path);
    if (existing) {
      existing.forbidden = true;
      return;
    }
    const id = Math.max(0, ...this.projects.map((p) => p.id)) + 1;
    this.projects.push({ id, path, forbidden: true, createdAt: this.now() });
  }
}
