// A local stand-in for the GitLab REST API v4 endpoints racewatch uses, with fault injection, so tests
// can drive the real @gitbeaker/rest client. Behaviour follows GitLab's documentation and source; see
// test/gitlab-standin.test.ts for what is guaranteed.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { faultReply, FaultQueue, FLAKY_KINDS, FlakyFaults, isErrorFault, isWriteMethod, safeDecode } from './gitlab-standin/faults.js';
import { ApiError, apiError, parseBody, paramError, queryToRecord, readBody, send, type ParsedBody, type Reply } from './gitlab-standin/http.js';
import { Params } from './gitlab-standin/params.js';
import { matchRoute, runRoute } from './gitlab-standin/routes.js';
import { dumpProject, loadProject } from './gitlab-standin/snapshot.js';
import { HUMAN_USERNAME, Store } from './gitlab-standin/store.js';
import type { Fault, FlakyKind, FlakyMode, GitlabStandin, RecordedRequest, StandinOptions } from './gitlab-standin/types.js';

export type { ProjectSnapshot } from './gitlab-standin/snapshot.js';
export type {
  Fault,
  FlakyKind,
  FlakyMode,
  GitlabStandin,
  QuickActionRecord,
  RecordedRequest,
  StandinOptions,
  StoredIssue,
  StoredLabel,
  StoredNote,
} from './gitlab-standin/types.js';

export const DEFAULT_TOKEN = 'glpat-standin-secret-token';
export const DEFAULT_PROJECTS = [{ id: 42, path: 'soak/svc' }];
const API_PREFIX = '/api/v4';

export async function startGitlabStandin(opts: StandinOptions = {}): Promise<GitlabStandin> {
  const token = opts.token ?? DEFAULT_TOKEN;
  const store = new Store(opts.projects ?? DEFAULT_PROJECTS, opts.forbiddenProjects ?? []);
  const faults = new FaultQueue();
  let revoked = false;
  let flaky: FlakyFaults | null = null;
  let lastFlaky: FlakyFaults | null = null;
  let refused: { status: number; path: RegExp | undefined } | null = null;
  let handling = 0;
  let closed = false;
  const requests: RecordedRequest[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((req, res) => {
    handling += 1;
    handle(req, res)
      .catch((error: unknown) => send(res, internalError(error)))
      .finally(() => (handling -= 1));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const incoming = await readIncoming(req, url);
    requests.push(recordOf(incoming));
    // A revoked token: Gitlab::Auth rejects the request before any route or fault could act.
    if (revoked) return send(res, apiError(401, '401 Unauthorized').toReply());
    if (refused && isWriteMethod(incoming.method) && (!refused.path || refused.path.test(safeDecode(incoming.url.pathname)))) {
      return send(res, faultReply({ status: refused.status }));
    }
    const fault = faults.take(incoming.method, incoming.url.pathname) ?? flaky?.take(incoming.method);
    if (fault?.delayMs) await sleep(fault.delayMs);
    if (fault?.dropConnection) return void req.socket.destroy();
    if (fault && isErrorFault(fault)) return send(res, faultReply(fault));
    const reply = serve(incoming);
    // The write has happened; only the answer is lost.
    if (fault?.dropAfterServing) return void req.socket.destroy();
    send(res, reply);
  }

  function serve({ method, url: requestUrl, query, body, headers }: Incoming): Reply {
    try {
      if (!requestUrl.pathname.startsWith(`${API_PREFIX}/`)) throw new ApiError(404, { error: '404 Not Found' });
      const match = matchRoute(method, requestUrl.pathname.slice(API_PREFIX.length));
      if (match instanceof ApiError) throw match;
      if (!isAuthenticated(headers, requestUrl.searchParams, token)) throw apiError(401, '401 Unauthorized');
      if (!body.ok) throw paramError('message body does not match declared format');
      return runRoute(match, { store, baseUrl: url, requestUrl, params: new Params(query, body.value) });
    } catch (error) {
      if (error instanceof ApiError) return error.toReply();
      return internalError(error);
    }
  }

  return {
    url,
    token,
    requests,
    quickActions: store.quickActions,
    issues: (projectId) => clone(store.issues.filter((i) => projectId === undefined || i.projectId === projectId)),
    notes: (projectId, iid) => clone(store.issueNotes(projectId, iid)),
    labels: (projectId) => clone(store.labels.filter((l) => projectId === undefined || l.projectId === projectId)),
    injectFault: (fault: Fault) => faults.add(fault),
    clearFaults: () => faults.clear(),
    revokeToken: () => void (revoked = true),
    restoreToken: () => void (revoked = false),
    setFlaky: (mode: FlakyMode | null) => {
      flaky = mode === null ? null : new FlakyFaults(mode);
      lastFlaky = flaky ?? lastFlaky;
    },
    flakyHits: () => ({ ...(lastFlaky?.hits ?? (Object.fromEntries(FLAKY_KINDS.map((kind) => [kind, 0])) as Record<FlakyKind, number>)) }),
    refuseWrites: (status: number | null, path?: RegExp) => {
      if (status !== null && !(status >= 400 && status <= 599)) throw new Error(`refuseWrites needs an error status, got ${status}`);
      refused = status === null ? null : { status, path };
    },
    whenIdle: async () => {
      while (handling > 0 && !closed) await new Promise((resolve) => setTimeout(resolve, 20));
    },
    dumpProject: (projectId) => dumpProject(store, projectId),
    loadProject: (projectId, snapshot) => loadProject(store, projectId, structuredClone(snapshot)),
    closeIssue: (projectId, iid) => {
      store.updateIssue(existingIssue(store, projectId, iid), { stateEvent: 'close' }, HUMAN_USERNAME);
    },
    editIssue: (projectId, iid, patch) => {
      store.updateIssue(existingIssue(store, projectId, iid), patch, HUMAN_USERNAME);
    },
    close: async () => {
      closed = true;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

interface Incoming {
  method: string;
  url: URL;
  query: Record<string, string | string[]>;
  body: ParsedBody;
  rawBody: Buffer;
  headers: IncomingMessage['headers'];
}

async function readIncoming(req: IncomingMessage, baseUrl: string): Promise<Incoming> {
  const url = new URL(req.url ?? '/', baseUrl);
  const rawBody = await readBody(req);
  return {
    method: (req.method ?? 'GET').toUpperCase(),
    url,
    query: queryToRecord(url.searchParams),
    body: parseBody(rawBody, req.headers['content-type']),
    rawBody,
    headers: req.headers,
  };
}

function recordOf({ method, url, query, body, rawBody, headers }: Incoming): RecordedRequest {
  return { method, path: url.pathname, query, body: body.ok ? body.value : rawBody.toString('utf8'), headers: { ...headers } };
}

// GitLab accepts a personal access token as PRIVATE-TOKEN, as an OAuth-style Bearer, or in the query.
function isAuthenticated(headers: IncomingMessage['headers'], query: URLSearchParams, token: string): boolean {
  const privateToken = headers['private-token'];
  if (privateToken !== undefined) return privateToken === token;
  const authorization = headers.authorization;
  if (authorization !== undefined) return authorization === `Bearer ${token}`;
  const queryToken = query.get('private_token') ?? query.get('access_token');
  return queryToken === token;
}

function existingIssue(store: Store, projectId: number, iid: number) {
  const issue = store.findIssue(projectId, iid);
  if (!issue) throw new Error(`stand-in has no issue ${projectId}#${iid}`);
  return issue;
}

function internalError(error: unknown): Reply {
  // The detail header exists only to make stand-in bugs diagnosable; GitLab sends just the message.
  const detail = error instanceof Error ? error.message : String(error);
  return { status: 500, body: { message: '500 Internal Server Error' }, headers: { 'x-standin-error': encodeURIComponent(detail).slice(0, 500) } };
}

function clone<T>(value: T): T {
  return structuredClone(value);
}
