import type { RenderContext } from './entities.js';
import { safeDecode } from './faults.js';
import { ApiError, apiError, notFound, paramError, type Reply } from './http.js';
import { createIssue, listIssues, showIssue, updateIssue } from './issue-routes.js';
import { createLabel, listLabels, showCurrentUser, showProject } from './label-routes.js';
import { createNote, listNotes, showNote } from './note-routes.js';
import type { Params } from './params.js';
import type { StoredProject } from './store.js';

export interface BaseContext extends RenderContext {
  params: Params;
  /** The request URL rebuilt on the stand-in's own base URL (used for Link headers). */
  requestUrl: URL;
  /** Path parameters after the project id, still as text. */
  captures: string[];
}

export interface ProjectContext extends BaseContext {
  project: StoredProject;
}

type Route =
  | { method: string; pattern: RegExp; integerParams?: string[]; global: (ctx: BaseContext) => Reply }
  | { method: string; pattern: RegExp; integerParams?: string[]; project: (ctx: ProjectContext) => Reply };

const PROJECT = '/projects/([^/]+)';
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/user$/, global: showCurrentUser },
  { method: 'GET', pattern: re(`${PROJECT}`), project: showProject },
  { method: 'GET', pattern: re(`${PROJECT}/issues`), project: listIssues },
  { method: 'POST', pattern: re(`${PROJECT}/issues`), project: createIssue },
  { method: 'GET', pattern: re(`${PROJECT}/issues/([^/]+)`), integerParams: ['issue_iid'], project: showIssue },
  { method: 'PUT', pattern: re(`${PROJECT}/issues/([^/]+)`), integerParams: ['issue_iid'], project: updateIssue },
  { method: 'GET', pattern: re(`${PROJECT}/issues/([^/]+)/notes`), integerParams: ['noteable_id'], project: listNotes },
  { method: 'POST', pattern: re(`${PROJECT}/issues/([^/]+)/notes`), integerParams: ['noteable_id'], project: createNote },
  { method: 'GET', pattern: re(`${PROJECT}/issues/([^/]+)/notes/([^/]+)`), integerParams: ['noteable_id', 'note_id'], project: showNote },
  { method: 'GET', pattern: re(`${PROJECT}/labels`), project: listLabels },
  { method: 'POST', pattern: re(`${PROJECT}/labels`), project: createLabel },
];

export interface RouteMatch {
  route: Route;
  groups: string[];
}

/** The route for a path below /api/v4, or the error GitLab answers when there is none. */
export function matchRoute(method: string, apiPath: string): RouteMatch | ApiError {
  const candidates = ROUTES.map((route) => ({ route, match: route.pattern.exec(apiPath) })).filter((c) => c.match);
  const hit = candidates.find((c) => c.route.method === method);
  if (hit) return { route: hit.route, groups: hit.match!.slice(1) };
  if (candidates.length > 0) return new ApiError(405, { error: '405 Not Allowed' });
  return new ApiError(404, { error: '404 Not Found' });
}

export function runRoute({ route, groups }: RouteMatch, base: Omit<BaseContext, 'captures'>): Reply {
  const captures = 'project' in route ? groups.slice(1) : groups;
  checkIntegers(route.integerParams ?? [], captures);
  if ('global' in route) return route.global({ ...base, captures });
  const project = resolveProject(base.store, safeDecode(groups[0]!));
  return route.project({ ...base, captures, project });
}

function resolveProject(store: BaseContext['store'], ref: string): StoredProject {
  const project = store.findProject(ref);
  if (!project) throw notFound('Project');
  if (project.forbidden) throw apiError(403, '403 Forbidden');
  return project;
}

function checkIntegers(names: string[], captures: string[]): void {
  names.forEach((name, index) => {
    if (!/^\d+$/.test(captures[index] ?? '')) throw paramError(`${name} is invalid`);
  });
}

function re(path: string): RegExp {
  return new RegExp(`^${path}$`);
}
