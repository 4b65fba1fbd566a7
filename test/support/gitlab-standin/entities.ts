// JSON shapes of GitLab's API entities (Entities::Issue, Note, Label, Project, UserBasic), trimmed to
// the fields a client may plausibly read.
import type { Store, StoredProject } from './store.js';
import type { StoredIssue, StoredLabel, StoredNote } from './types.js';

export interface RenderContext {
  store: Store;
  baseUrl: string;
}

export function renderUser({ store, baseUrl }: RenderContext, username: string): Record<string, unknown> {
  const user = store.user(username);
  return {
    id: user.id,
    username,
    name: username,
    state: 'active',
    locked: false,
    avatar_url: null,
    web_url: `${baseUrl}/${username}`,
  };
}

export function renderProject(ctx: RenderContext, project: StoredProject): Record<string, unknown> {
  const name = project.path.split('/').pop()!;
  const namespace = project.path.split('/').slice(0, -1).join('/');
  return {
    id: project.id,
    name,
    path: name,
    path_with_namespace: project.path,
    name_with_namespace: project.path.split('/').join(' / '),
    description: null,
    default_branch: 'main',
    visibility: 'private',
    created_at: project.createdAt,
    web_url: `${ctx.baseUrl}/${project.path}`,
    namespace: { full_path: namespace, path: namespace.split('/').pop(), kind: 'group' },
    issues_enabled: true,
  };
}

export function renderIssue(ctx: RenderContext, issue: StoredIssue): Record<string, unknown> {
  const project = ctx.store.projects.find((p) => p.id === issue.projectId)!;
  const apiBase = `${ctx.baseUrl}/api/v4/projects/${project.id}/issues/${issue.iid}`;
  const assignees = issue.assignees.map((username) => renderUser(ctx, username));
  return {
    id: issue.id,
    iid: issue.iid,
    project_id: issue.projectId,
    title: issue.title,
    description: issue.description,
    state: issue.state,
    created_at: issue.createdAt,
    updated_at: issue.updatedAt,
    closed_at: issue.closedAt,
    closed_by: issue.closedBy === null ? null : renderUser(ctx, issue.closedBy),
    labels: [...issue.labels].sort(),
    milestone: null,
    assignees,
    assignee: assignees[0] ?? null,
    author: renderUser(ctx, issue.author),
    type: 'ISSUE',
    issue_type: 'issue',
    user_notes_count: ctx.store.issueNotes(issue.projectId, issue.iid).filter((n) => !n.system).length,
    merge_requests_count: 0,
    upvotes: 0,
    downvotes: 0,
    due_date: null,
    confidential: false,
    discussion_locked: null,
    web_url: `${ctx.baseUrl}/${project.path}/-/issues/${issue.iid}`,
    references: { short: `#${issue.iid}`, relative: `#${issue.iid}`, full: `${project.path}#${issue.iid}` },
    _links: { self: apiBase, notes: `${apiBase}/notes`, project: `${ctx.baseUrl}/api/v4/projects/${project.id}` },
  };
}

export function renderNote(ctx: RenderContext, note: StoredNote, issueId: number): Record<string, unknown> {
  return {
    id: note.id,
    type: null,
    body: note.body,
    author: renderUser(ctx, note.author),
    created_at: note.createdAt,
    updated_at: note.updatedAt,
    system: note.system,
    noteable_id: issueId,
    noteable_type: 'Issue',
    project_id: note.projectId,
    resolvable: false,
    confidential: false,
    internal: false,
    noteable_iid: note.issueIid,
    commands_changes: {},
  };
}

export function renderLabel(ctx: RenderContext, label: StoredLabel, withCounts: boolean): Record<string, unknown> {
  const entity: Record<string, unknown> = {
    id: label.id,
    name: label.name,
    color: label.color,
    text_color: textColorFor(label.color),
    description: label.description,
    description_html: label.description ?? '',
    subscribed: false,
    priority: null,
    is_project_label: true,
  };
  if (!withCounts) return entity;
  const tagged = ctx.store.projectIssues(label.projectId).filter((i) => i.labels.includes(label.name));
  return {
    ...entity,
    open_issues_count: tagged.filter((i) => i.state === 'opened').length,
    closed_issues_count: tagged.filter((i) => i.state === 'closed').length,
    open_merge_requests_count: 0,
  };
}

function textColorFor(color: string): string {
  const hex = /^#([0-9a-f]{6})$/i.exec(color)?.[1];
  if (!hex) return '#FFFFFF';
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return 0.299 * r! + 0.587 * g! + 0.114 * b! > 186 ? '#1F1E24' : '#FFFFFF';
}
