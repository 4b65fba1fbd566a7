import { renderIssue } from './entities.js';
import { apiError, paramError, recordNotFound, type Reply } from './http.js';
import { paginate } from './pagination.js';
import { extractQuickActions, interpretQuickActions, type Extraction } from './quick-actions.js';
import type { ProjectContext } from './routes.js';
import { matchesSearch, searchFields } from './search.js';
import { BOT_USERNAME, type IssueChanges, type Store } from './store.js';
import type { StoredIssue } from './types.js';

const TITLE_MAX_CHARS = 255;
const DESCRIPTION_MAX_BYTES = 1_048_576;
const ORDER_BY = [
  'created_at',
  'updated_at',
  'title',
  'priority',
  'due_date',
  'relative_position',
  'label_priority',
  'milestone_due',
  'popularity',
  'weight',
] as const;
const UPDATE_PARAMS = [
  'title',
  'description',
  'labels',
  'add_labels',
  'remove_labels',
  'state_event',
  'assignee_ids',
  'confidential',
  'due_date',
  'milestone_id',
];

type IssueFilter = (issue: StoredIssue) => boolean;

export function listIssues(ctx: ProjectContext): Reply {
  const { params } = ctx;
  const orderBy = params.oneOf('order_by', ORDER_BY, 'created_at');
  const direction = params.oneOf('sort', ['asc', 'desc'], 'desc') === 'asc' ? 1 : -1;
  const filters = [stateFilter(ctx), labelFilter(params.list('labels')), iidFilter(params.intList('iids')), searchFilter(ctx), ...dateFilters(ctx)];
  const matching = ctx.store.projectIssues(ctx.project.id).filter((issue) => filters.every((keep) => keep(issue)));
  const sortKey = orderBy === 'updated_at' ? 'updatedAt' : orderBy === 'title' ? 'title' : 'createdAt';
  // GitLab breaks ties with id DESC whatever the direction.
  matching.sort((a, b) => compare(a[sortKey], b[sortKey]) * direction || b.id - a.id);
  const page = paginate(matching, params, ctx.requestUrl);
  return { status: 200, body: page.items.map((issue) => renderIssue(ctx, issue)), headers: page.headers };
}

export function showIssue(ctx: ProjectContext): Reply {
  return { status: 200, body: renderIssue(ctx, findIssue(ctx)) };
}

export function createIssue(ctx: ProjectContext): Reply {
  const { params, store, project } = ctx;
  const rawTitle = params.string('title');
  if (rawTitle === undefined) throw paramError('title is missing');
  const title = rawTitle.trim();
  const extraction = params.has('description') ? extractQuickActions(params.string('description') ?? '') : undefined;
  const description = extraction?.text ?? null;
  validateIssueFields(title, description);
  const target = { projectId: project.id, state: 'new' as const, labels: [], assignees: [] };
  const commands = interpretQuickActions(store, target, extraction?.actions ?? []);
  const issue = store.createIssue(project.id, title, description, BOT_USERNAME);
  const changes = mergeChanges({ labels: params.list('labels') ?? [] }, commands.changes);
  store.updateIssue(issue, changes, BOT_USERNAME, { touch: false });
  recordQuickActions(store, issue, commands.outcomes);
  return { status: 201, body: renderIssue(ctx, issue) };
}

export function updateIssue(ctx: ProjectContext): Reply {
  const { params, store } = ctx;
  const issue = findIssue(ctx);
  if (!UPDATE_PARAMS.some((name) => params.has(name))) {
    throw paramError(`${UPDATE_PARAMS.join(', ')} are missing, at least one parameter must be provided`);
  }
  const apiChanges: IssueChanges = {
    title: params.string('title')?.trim(),
    labels: params.list('labels'),
    addLabels: params.list('add_labels'),
    removeLabels: params.list('remove_labels'),
    stateEvent: params.has('state_event') ? params.oneOf('state_event', ['close', 'reopen'] as const, 'close') : undefined,
  };
  const extraction = descriptionUpdate(params.has('description'), params.string('description'));
  if (extraction) apiChanges.description = extraction.text;
  validateIssueFields(apiChanges.title ?? issue.title, apiChanges.description ?? null);
  const target = { projectId: issue.projectId, state: issue.state, labels: issue.labels, assignees: issue.assignees };
  const commands = interpretQuickActions(store, target, extraction?.actions ?? []);
  store.updateIssue(issue, mergeChanges(apiChanges, commands.changes), BOT_USERNAME);
  recordQuickActions(store, issue, commands.outcomes);
  return { status: 200, body: renderIssue(ctx, issue) };
}

export function recordQuickActions(
  store: Store,
  issue: StoredIssue,
  outcomes: Array<{ name: string; arg: string | null; applied: boolean }>,
  source: 'description' | 'note' = 'description',
): void {
  for (const { name, arg, applied } of outcomes) {
    store.quickActions.push({ projectId: issue.projectId, issueIid: issue.iid, source, command: name, arg, applied });
  }
}

/** Quick-action effects win over plain API parameters, as in merge_quick_actions_into_params!. */
export function mergeChanges(api: IssueChanges, commands: IssueChanges): IssueChanges {
  return {
    ...api,
    ...commands,
    addLabels: [...(api.addLabels ?? []), ...(commands.addLabels ?? [])],
    removeLabels: [...(api.removeLabels ?? []), ...(commands.removeLabels ?? [])],
  };
}

export function charCount(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

function descriptionUpdate(present: boolean, value: string | undefined): Extraction | undefined {
  if (!present) return undefined;
  return value === undefined ? { text: '', actions: [] } : extractQuickActions(value);
}

function validateIssueFields(title: string, description: string | null): void {
  const errors: Record<string, string[]> = {};
  if (title === '') errors.title = ["can't be blank"];
  else if (charCount(title) > TITLE_MAX_CHARS) errors.title = [`is too long (maximum is ${TITLE_MAX_CHARS} characters)`];
  if (description !== null && Buffer.byteLength(description) > DESCRIPTION_MAX_BYTES) {
    errors.description = [`is too long (maximum is ${DESCRIPTION_MAX_BYTES} characters)`];
  }
  if (Object.keys(errors).length > 0) throw apiError(400, errors);
}

function findIssue(ctx: ProjectContext): StoredIssue {
  const iid = Number(ctx.captures[0]);
  const issue = ctx.store.findIssue(ctx.project.id, iid);
  if (!issue) throw recordNotFound();
  return issue;
}

function stateFilter(ctx: ProjectContext): IssueFilter {
  const state = ctx.params.oneOf('state', ['opened', 'closed', 'all'], 'all');
  return (issue) => state === 'all' || issue.state === state;
}

function labelFilter(labels: string[] | undefined): IssueFilter {
  if (!labels || labels.length === 0) return () => true;
  const only = labels.length === 1 ? labels[0]!.toLowerCase() : undefined;
  if (only === 'none') return (issue) => issue.labels.length === 0;
  if (only === 'any') return (issue) => issue.labels.length > 0;
  return (issue) => labels.every((label) => issue.labels.includes(label));
}

function iidFilter(iids: number[] | undefined): IssueFilter {
  return (issue) => iids === undefined || iids.includes(issue.iid);
}

function searchFilter(ctx: ProjectContext): IssueFilter {
  const query = ctx.params.string('search');
  if (!query) return () => true;
  const fields = searchFields(ctx.params.string('in'));
  return (issue) => matchesSearch(issue, query, fields);
}

function dateFilters(ctx: ProjectContext): IssueFilter[] {
  const bound = (name: string): number | undefined => {
    const value = ctx.params.string(name);
    if (value === undefined) return undefined;
    const time = Date.parse(value);
    if (Number.isNaN(time)) throw paramError(`${name} is invalid`);
    return time;
  };
  const after = (name: string, key: 'createdAt' | 'updatedAt'): IssueFilter => {
    const limit = bound(name);
    return (issue) => limit === undefined || Date.parse(issue[key]) >= limit;
  };
  const before = (name: string, key: 'createdAt' | 'updatedAt'): IssueFilter => {
    const limit = bound(name);
    return (issue) => limit === undefined || Date.parse(issue[key]) <= limit;
  };
  return [
    after('created_after', 'createdAt'),
    before('created_before', 'createdAt'),
    after('updated_after', 'updatedAt'),
    before('updated_before', 'updatedAt'),
  ];
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
