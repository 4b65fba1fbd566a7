// What a project holds, as plain JSON: dumped from one stand-in and loaded into another, so a test can start
// from what an earlier racewatch left in GitLab (test/fixtures/release-0.1.0/). Loading is not an API route:
// it stands for data GitLab already had, which the REST API then serves as it serves anything else.
import type { Store } from './store.js';

export interface SnapshotNote {
  body: string;
  author: string;
  system: boolean;
  createdAt: string;
}

export interface SnapshotIssue {
  iid: number;
  title: string;
  description: string | null;
  state: 'opened' | 'closed';
  labels: string[];
  author: string;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  closedBy: string | null;
  notes: SnapshotNote[];
}

export interface ProjectSnapshot {
  labels: Array<{ name: string; color: string; description: string | null }>;
  issues: SnapshotIssue[];
}

export function dumpProject(store: Store, projectId: number): ProjectSnapshot {
  return {
    labels: store.projectLabels(projectId).map(({ name, color, description }) => ({ name, color, description })),
    issues: store
      .projectIssues(projectId)
      .sort((a, b) => a.iid - b.iid)
      .map((issue) => ({
        iid: issue.iid,
        title: issue.title,
        description: issue.description,
        state: issue.state,
        labels: [...issue.labels],
        author: issue.author,
        createdAt: issue.createdAt,
        updatedAt: issue.updatedAt,
        closedAt: issue.closedAt,
        closedBy: issue.closedBy,
        notes: store.issueNotes(projectId, issue.iid).map(({ body, author, system, createdAt }) => ({ body, author, system, createdAt })),
      })),
  };
}

/** Adds the snapshot's labels, issues (with their iids and times) and notes to a project that has none of those iids. */
export function loadProject(store: Store, projectId: number, snapshot: ProjectSnapshot): void {
  for (const label of snapshot.labels) {
    if (!store.findLabel(projectId, label.name)) store.createLabel(projectId, label.name, label.color, label.description);
  }
  for (const issue of snapshot.issues) {
    if (store.findIssue(projectId, issue.iid)) throw new Error(`stand-in already has issue ${projectId}#${issue.iid}`);
    const { notes, ...fields } = issue;
    store.importIssue(projectId, { ...fields, labels: [...fields.labels], assignees: [] });
    for (const note of notes) store.importNote(projectId, issue.iid, note);
  }
}
