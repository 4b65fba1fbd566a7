import { Gitlab, GitbeakerRequestError, GitbeakerRetryError, GitbeakerTimeoutError } from '@gitbeaker/rest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGitlabStandin, type GitlabStandin } from './support/gitlab-standin.js';

const PROJECT_ID = 42;
const PROJECT_PATH = 'soak/svc';

let standin: GitlabStandin;
let api: InstanceType<typeof Gitlab>;

beforeEach(async () => {
  standin = await startGitlabStandin();
  api = new Gitlab({ host: standin.url, token: standin.token });
});

afterEach(async () => {
  await standin.close();
});

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to be rejected'),
    (error: unknown) => error,
  );
}

async function requestError(promise: Promise<unknown>): Promise<GitbeakerRequestError> {
  const error = await rejectionOf(promise);
  expect(error).toBeInstanceOf(GitbeakerRequestError);
  return error as GitbeakerRequestError;
}

function requestsTo(method: string, pathEnd: RegExp) {
  return standin.requests.filter((r) => r.method === method && pathEnd.test(r.path));
}

async function createIssues(count: number, options: { labels?: string } = {}): Promise<void> {
  for (let n = 1; n <= count; n++) await api.Issues.create(PROJECT_ID, `issue ${n}`, options);
}

describe('authentication', () => {
  it('a wrong token surfaces as GitbeakerRequestError with status 401 at err.cause.response.status', async () => {
    const intruder = new Gitlab({ host: standin.url, token: 'glpat-wrong' });
    const error = await requestError(intruder.Issues.all({ projectId: PROJECT_ID }));
    expect(error.cause?.response.status).toBe(401);
    expect(error.message).toBe('401 Unauthorized');
  });

  it('a missing token is rejected with 401', async () => {
    const anonymous = new Gitlab({ host: standin.url });
    const error = await requestError(anonymous.Projects.show(PROJECT_ID));
    expect(error.cause?.response.status).toBe(401);
  });

  it('accepts the token as an OAuth Bearer header too', async () => {
    const oauth = new Gitlab({ host: standin.url, oauthToken: standin.token });
    await expect(oauth.Projects.show(PROJECT_ID)).resolves.toMatchObject({ id: PROJECT_ID });
  });

  it('records the token in the PRIVATE-TOKEN header and never in the URL', async () => {
    await api.Issues.create(PROJECT_ID, 'one', { labels: 'race' });
    await api.Issues.all({ projectId: PROJECT_ID, search: 'one' });
    expect(standin.requests.length).toBeGreaterThan(0);
    for (const request of standin.requests) {
      expect(request.headers['private-token']).toBe(standin.token);
      expect(request.path + JSON.stringify(request.query)).not.toContain(standin.token);
    }
  });
});

describe('projects', () => {
  it('addresses a project by its URL-encoded full path', async () => {
    const issue = await api.Issues.create(PROJECT_PATH, 'by path');
    expect(issue.project_id).toBe(PROJECT_ID);
    expect(standin.requests.at(-1)!.path).toBe('/api/v4/projects/soak%2Fsvc/issues');
    await expect(api.Projects.show(PROJECT_PATH)).resolves.toMatchObject({
      id: PROJECT_ID,
      path_with_namespace: PROJECT_PATH,
      web_url: `${standin.url}/${PROJECT_PATH}`,
    });
  });

  it('answers 404 "404 Project Not Found" for an unknown project', async () => {
    const error = await requestError(api.Issues.all({ projectId: 'soak/nope' }));
    expect(error.cause?.response.status).toBe(404);
    expect(error.message).toBe('404 Project Not Found');
  });

  it('answers 403 "403 Forbidden" for a forbidden project', async () => {
    const guarded = await startGitlabStandin({ forbiddenProjects: ['locked/repo'] });
    try {
      const client = new Gitlab({ host: guarded.url, token: guarded.token });
      const error = await requestError(client.Issues.create('locked/repo', 'nope'));
      expect(error.cause?.response.status).toBe(403);
      expect(error.message).toBe('403 Forbidden');
    } finally {
      await guarded.close();
    }
  });
});

describe('issues', () => {
  it('creates an issue with labels and creates the labels that did not exist', async () => {
    const issue = await api.Issues.create(PROJECT_ID, 'DATA RACE in pkg.Foo', { description: 'body', labels: 'race,bot' });
    expect(issue).toMatchObject({ iid: 1, project_id: PROJECT_ID, state: 'opened', labels: ['bot', 'race'], closed_at: null, references: { short: '#1' } });
    expect(issue.id).not.toBe(issue.iid);
    expect(issue.web_url).toBe(`${standin.url}/${PROJECT_PATH}/-/issues/1`);
    expect(
      standin
        .labels(PROJECT_ID)
        .map((l) => l.name)
        .sort(),
    ).toEqual(['bot', 'race']);
    expect(standin.issues(PROJECT_ID)[0]).toMatchObject({ title: 'DATA RACE in pkg.Foo', description: 'body', labels: ['bot', 'race'] });
  });

  it('answers 400 with a message naming the title when the title exceeds 255 characters', async () => {
    const error = await requestError(api.Issues.create(PROJECT_ID, 'x'.repeat(256)));
    expect(error.cause?.response.status).toBe(400);
    expect(error.message).toBe('{"title":["is too long (maximum is 255 characters)"]}');
    expect(standin.issues()).toHaveLength(0);
  });

  it('answers 400 "title is missing" when no title is sent', async () => {
    const error = await requestError(api.Issues.create(PROJECT_ID, undefined as unknown as string));
    expect(error.cause?.response.status).toBe(400);
    expect(error.message).toBe('title is missing');
  });

  it('answers 400 when the description exceeds 1,048,576 bytes', async () => {
    const error = await requestError(api.Issues.create(PROJECT_ID, 'big', { description: 'a'.repeat(1_048_577) }));
    expect(error.cause?.response.status).toBe(400);
    expect(error.message).toContain('description');
  });

  it('filters the list by labels (all must match) and by state', async () => {
    await api.Issues.create(PROJECT_ID, 'both', { labels: 'race,bot' });
    await api.Issues.create(PROJECT_ID, 'race only', { labels: 'race' });
    await api.Issues.create(PROJECT_ID, 'both, closed', { labels: 'bot,race' });
    standin.closeIssue(PROJECT_ID, 3);
    const titles = async (options: Record<string, string>) => (await api.Issues.all({ projectId: PROJECT_ID, ...options })).map((i) => i.title);
    expect(await titles({ labels: 'race,bot', state: 'opened' })).toEqual(['both']);
    expect(await titles({ labels: 'race,bot' })).toEqual(['both, closed', 'both']);
    expect(await titles({ labels: 'race', state: 'closed' })).toEqual(['both, closed']);
    // An array is sent as labels[]=race&labels[]=bot, which GitLab (Rack) reads the same way.
    const viaArray = await api.Issues.all({ projectId: PROJECT_ID, labels: ['race', 'bot'] as unknown as string, state: 'opened' });
    expect(viaArray.map((i) => i.title)).toEqual(['both']);
    expect(standin.requests.at(-1)!.query['labels[]']).toEqual(['race', 'bot']);
  });

  it('reopens and closes an issue through Issues.edit stateEvent', async () => {
    await api.Issues.create(PROJECT_ID, 'flaky');
    const closed = await api.Issues.edit(PROJECT_ID, 1, { stateEvent: 'close' });
    expect(closed).toMatchObject({ state: 'closed', closed_by: { username: 'standin-bot' } });
    expect(closed.closed_at).not.toBeNull();
    const reopened = await api.Issues.edit(PROJECT_ID, 1, { stateEvent: 'reopen', addLabels: 'regressed' });
    expect(reopened).toMatchObject({ state: 'opened', closed_at: null, labels: ['regressed'] });
    expect(requestsTo('PUT', /\/issues\/1$/).map((r) => r.body)).toEqual([{ state_event: 'close' }, { state_event: 'reopen', add_labels: 'regressed' }]);
  });

  it('shows what a person changed with closeIssue and editIssue', async () => {
    await api.Issues.create(PROJECT_ID, 'original', { labels: 'race' });
    standin.editIssue(PROJECT_ID, 1, { title: 'renamed', labels: ['triaged'] });
    standin.closeIssue(PROJECT_ID, 1);
    const issue = await api.Issues.show(1, { projectId: PROJECT_ID });
    expect(issue).toMatchObject({ title: 'renamed', labels: ['triaged'], state: 'closed', closed_by: { username: 'human-maintainer' } });
  });

  it('answers 404 "404 Not found" for an unknown issue iid', async () => {
    const error = await requestError(api.Issues.show(99, { projectId: PROJECT_ID }));
    expect(error.cause?.response.status).toBe(404);
    expect(error.message).toBe('404 Not found');
  });
});

describe('pagination', () => {
  it('Issues.all follows Link rel="next" and returns all 45 issues, 20 per page', async () => {
    await createIssues(45);
    const all = await api.Issues.all({ projectId: PROJECT_ID, perPage: 20 });
    expect(all).toHaveLength(45);
    expect(all.map((i) => i.iid)).toEqual(Array.from({ length: 45 }, (_, n) => 45 - n)); // created_at desc
    const pages = requestsTo('GET', /\/issues$/).map((r) => r.query.page ?? '1');
    expect(pages).toEqual(['1', '2', '3']);
  });

  it('showExpanded reports x-total, x-total-pages, x-page, x-next-page, x-prev-page and x-per-page', async () => {
    await createIssues(45);
    const { data, paginationInfo } = await api.Issues.all({ projectId: PROJECT_ID, perPage: 20, page: 2, showExpanded: true });
    expect(data).toHaveLength(20);
    expect(paginationInfo).toEqual({ total: 45, totalPages: 3, current: 2, next: 3, previous: 1, perPage: 20 });
  });

  it('sends the GitLab pagination headers and a Link header with prev, next, first and last', async () => {
    await createIssues(45);
    const response = await fetch(`${standin.url}/api/v4/projects/${PROJECT_ID}/issues?per_page=20&page=2&state=all`, {
      headers: { 'private-token': standin.token },
    });
    expect(
      Object.fromEntries(['x-total', 'x-total-pages', 'x-page', 'x-per-page', 'x-next-page', 'x-prev-page'].map((h) => [h, response.headers.get(h)])),
    ).toEqual({
      'x-total': '45',
      'x-total-pages': '3',
      'x-page': '2',
      'x-per-page': '20',
      'x-next-page': '3',
      'x-prev-page': '1',
    });
    const link = response.headers.get('link')!;
    for (const [rel, page] of [
      ['prev', 1],
      ['next', 3],
      ['first', 1],
      ['last', 3],
    ] as const) {
      expect(link).toContain(`<${standin.url}/api/v4/projects/${PROJECT_ID}/issues?per_page=20&page=${page}&state=all>; rel="${rel}"`);
    }
  });

  it('maxPages with perPage stops following Link after that many pages', async () => {
    await createIssues(45);
    await expect(api.Issues.all({ projectId: PROJECT_ID, perPage: 20, maxPages: 2 })).resolves.toHaveLength(40);
  });

  it('caps per_page at 100', async () => {
    await createIssues(3);
    await api.Issues.all({ projectId: PROJECT_ID, perPage: 500, page: 1, showExpanded: true }).then(({ paginationInfo }) =>
      expect(paginationInfo.perPage).toBe(100),
    );
  });
});

describe('search', () => {
  const visibleKey = 'race-0123456789abcdef';
  const hiddenKey = 'fedcba9876543210';
  const sha256 = 'ab'.repeat(32);

  beforeEach(async () => {
    const description = [`Fingerprint: ${visibleKey}`, `<!-- racewatch key ${hiddenKey} -->`, `sha256 ${sha256}`].join('\n');
    await api.Issues.create(PROJECT_ID, 'DATA RACE in worker.Run', { description, labels: 'race' });
  });

  const search = (query: string, within = 'description') => api.Issues.all({ projectId: PROJECT_ID, search: query, in: within, labels: 'race', state: 'all' });

  it('does not find a key that only appears inside an HTML comment', async () => {
    await expect(search(hiddenKey)).resolves.toHaveLength(0);
  });

  it('does not find a 64-hex run, which GitLab blanks before indexing', async () => {
    await expect(search(sha256)).resolves.toHaveLength(0);
    await expect(search(sha256.slice(0, 20))).resolves.toHaveLength(0);
  });

  it('finds a visible race-<16 hex> token, also by prefix, and only in the fields named by `in`', async () => {
    await expect(search(visibleKey)).resolves.toHaveLength(1);
    await expect(search('race-01234567')).resolves.toHaveLength(1);
    await expect(search(visibleKey, 'title')).resolves.toHaveLength(0);
    await expect(search('worker.Run', 'title')).resolves.toHaveLength(1);
  });

  it('needs every query word to match', async () => {
    await expect(search(`${visibleKey} absent`)).resolves.toHaveLength(0);
    await expect(search(`fingerprint ${visibleKey}`)).resolves.toHaveLength(1);
  });
});

describe('a project loaded from a snapshot (what GitLab already held)', () => {
  it('serves the dumped issues, notes and labels of one stand-in from another, iids and times kept, later writes after them', async () => {
    await api.Issues.create(PROJECT_ID, 'first', { description: 'race-0123456789abcdef', labels: 'race' });
    await api.Issues.create(PROJECT_ID, 'second', { labels: 'race,triaged' });
    await api.IssueNotes.create(PROJECT_ID, 2, 'seen again');
    standin.closeIssue(PROJECT_ID, 2);
    const snapshot = standin.dumpProject(PROJECT_ID);

    const other = await startGitlabStandin();
    try {
      other.loadProject(PROJECT_ID, snapshot);
      const otherApi = new Gitlab({ host: other.url, token: other.token });
      const issues = await otherApi.Issues.all({ projectId: PROJECT_ID, state: 'all', orderBy: 'created_at', sort: 'asc' });
      expect(issues.map((i) => [i.iid, i.title, i.state, i.labels])).toEqual([
        [1, 'first', 'opened', ['race']],
        [2, 'second', 'closed', ['race', 'triaged']],
      ]);
      expect(issues.map((i) => i.created_at)).toEqual(snapshot.issues.map((i) => i.createdAt));
      await expect(otherApi.Issues.all({ projectId: PROJECT_ID, search: 'race-0123456789abcdef', in: 'description' })).resolves.toHaveLength(1);
      expect((await otherApi.IssueNotes.all(PROJECT_ID, 2)).map((n) => n.body)).toEqual(['seen again']);
      expect((await otherApi.ProjectLabels.all(PROJECT_ID)).map((l) => l.name)).toEqual(['race', 'triaged']);
      const third = await otherApi.Issues.create(PROJECT_ID, 'third');
      expect(third.iid).toBe(3);
      expect(third.created_at > snapshot.issues[1]!.updatedAt).toBe(true);
      expect(() => other.loadProject(PROJECT_ID, snapshot)).toThrow(/already has issue 42#1/);
      expect(other.dumpProject(PROJECT_ID).issues.slice(0, 2)).toEqual(snapshot.issues);
    } finally {
      await other.close();
    }
  });
});

describe('notes', () => {
  beforeEach(async () => {
    await api.Issues.create(PROJECT_ID, 'racy');
  });

  it('creates and lists notes and bumps the issue updated_at', async () => {
    const before = standin.issues(PROJECT_ID)[0]!.updatedAt;
    const note = await api.IssueNotes.create(PROJECT_ID, 1, 'seen again');
    expect(note).toMatchObject({ body: 'seen again', system: false, noteable_iid: 1, author: { username: 'standin-bot' } });
    await api.IssueNotes.create(PROJECT_ID, 1, 'and again');
    const notes = await api.IssueNotes.all(PROJECT_ID, 1);
    expect(notes.map((n) => n.body)).toEqual(['and again', 'seen again']); // created_at desc
    const issue = await api.Issues.show(1, { projectId: PROJECT_ID });
    expect(issue.user_notes_count).toBe(2);
    expect(issue.updated_at > before).toBe(true);
  });

  it('answers 400 for a note body over 1,000,000 characters', async () => {
    const error = await requestError(api.IssueNotes.create(PROJECT_ID, 1, 'n'.repeat(1_000_001)));
    expect(error.cause?.response.status).toBe(400);
    expect(error.message).toContain('is too long (maximum is 1000000 characters)');
  });

  it('answers 400 for an empty note body and 404 "404 Issue Not Found" for an unknown issue', async () => {
    const blank = await requestError(api.IssueNotes.create(PROJECT_ID, 1, '   '));
    expect(blank.cause?.response.status).toBe(400);
    const missing = await requestError(api.IssueNotes.create(PROJECT_ID, 7, 'hello'));
    expect(missing.message).toBe('404 Issue Not Found');
  });
});

describe('quick actions', () => {
  beforeEach(async () => {
    await api.Issues.create(PROJECT_ID, 'racy', { labels: 'race' });
  });

  it('executes a /close line outside any fence and removes it from the stored note', async () => {
    const note = await api.IssueNotes.create(PROJECT_ID, 1, 'Seen again.\n/close');
    expect(note.body).toBe('Seen again.');
    expect(standin.issues(PROJECT_ID)[0]!.state).toBe('closed');
    expect(standin.quickActions).toEqual([{ projectId: PROJECT_ID, issueIid: 1, source: 'note', command: 'close', arg: null, applied: true }]);
  });

  it('leaves /close inert inside a long backtick fence, even past an inner ``` line', async () => {
    const body = ['Report:', '`````', 'WARNING: DATA RACE', '```', '/close', '/label ~race', '```', '`````'].join('\n');
    const note = await api.IssueNotes.create(PROJECT_ID, 1, body);
    expect(note.body).toBe(body);
    expect(standin.issues(PROJECT_ID)[0]!.state).toBe('opened');
    expect(standin.quickActions).toEqual([]);
  });

  it('treats an unclosed fence as no protection', async () => {
    await api.IssueNotes.create(PROJECT_ID, 1, 'text\n```\n/close');
    expect(standin.issues(PROJECT_ID)[0]!.state).toBe('closed');
  });

  it('answers 202 with commands_changes for a note made only of quick actions, storing no note', async () => {
    const reply = await api.IssueNotes.create(PROJECT_ID, 1, '/close');
    expect(reply).toMatchObject({ commands_changes: { state_event: 'close' }, summary: ['Closed this issue.'] });
    expect(standin.notes(PROJECT_ID, 1)).toEqual([]);
    expect(standin.requests.at(-1)!.method).toBe('POST');
  });

  it('applies /label in a new description but removes /close without applying it', async () => {
    await api.ProjectLabels.create(PROJECT_ID, 'urgent', '#ff0000');
    const issue = await api.Issues.create(PROJECT_ID, 'second', { description: 'text\n/label ~urgent\n/close' });
    expect(issue).toMatchObject({ description: 'text', labels: ['urgent'], state: 'opened' });
    expect(standin.quickActions.map((q) => [q.command, q.applied])).toEqual([
      ['label', true],
      ['close', false],
    ]);
  });

  it('executes /reopen and /assign written into a description through Issues.edit', async () => {
    standin.closeIssue(PROJECT_ID, 1);
    const issue = await api.Issues.edit(PROJECT_ID, 1, { description: 'Regressed.\n/reopen\n\n/assign @alice' });
    expect(issue).toMatchObject({ state: 'opened', description: 'Regressed.', assignees: [{ username: 'alice' }] });
  });

  it('does not execute a command that is indented or not at the start of a line', async () => {
    const body = '  /close\nsee /close\n\t/close';
    await expect(api.IssueNotes.create(PROJECT_ID, 1, body)).resolves.toMatchObject({ body });
    expect(standin.issues(PROJECT_ID)[0]!.state).toBe('opened');
  });

  it('answers 400 "Could not apply" for a command-only note GitLab cannot apply', async () => {
    standin.closeIssue(PROJECT_ID, 1);
    const error = await requestError(api.IssueNotes.create(PROJECT_ID, 1, '/close'));
    expect(error.cause?.response.status).toBe(400);
    expect(error.message).toBe('400 Bad request - Could not apply close command.');
  });

  it("stores text without \\r and trailing whitespace, as GitLab's extractor does", async () => {
    const issue = await api.Issues.create(PROJECT_ID, 'crlf', { description: 'line one\r\nline two\r\n\n' });
    expect(issue.description).toBe('line one\nline two');
  });
});

describe('labels', () => {
  it('creates a label, lists it with search, and answers 409 "Label already exists" for a duplicate', async () => {
    const label = await api.ProjectLabels.create(PROJECT_ID, 'race', '#d9534f', { description: 'go race' });
    expect(label).toMatchObject({ name: 'race', color: '#d9534f', description: 'go race' });
    await api.ProjectLabels.create(PROJECT_ID, 'bot', '#00ff00');
    await expect(api.ProjectLabels.all(PROJECT_ID, { search: 'rac' })).resolves.toMatchObject([{ name: 'race' }]);
    const duplicate = await requestError(api.ProjectLabels.create(PROJECT_ID, 'race', '#000000'));
    expect(duplicate.cause?.response.status).toBe(409);
    expect(duplicate.message).toBe('Label already exists');
  });
});

describe('faults', () => {
  it('429: gitbeaker retries by itself, so a single 429 is absorbed and Retry-After is not waited for', async () => {
    standin.injectFault({ method: 'GET', path: /\/issues$/, status: 429, retryAfterSeconds: 30 });
    const started = Date.now();
    await expect(api.Issues.all({ projectId: PROJECT_ID })).resolves.toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(requestsTo('GET', /\/issues$/)).toHaveLength(2);
  });

  it('429 ten times in a row ends in GitbeakerRetryError, which carries no status or headers', async () => {
    standin.injectFault({ method: 'GET', path: /\/issues$/, status: 429, times: 10 });
    const error = await rejectionOf(api.Issues.all({ projectId: PROJECT_ID }));
    expect(error).toBeInstanceOf(GitbeakerRetryError);
    expect((error as Error).message).toContain('last status code: 429');
    expect((error as Error).cause).toBeUndefined();
    expect(requestsTo('GET', /\/issues$/)).toHaveLength(10);
  });

  it('429 answers plain text "Retry later" with Retry-After and RateLimit-* headers', async () => {
    standin.injectFault({ status: 429, retryAfterSeconds: 7 });
    const response = await fetch(`${standin.url}/api/v4/projects/${PROJECT_ID}/issues`, { headers: { 'private-token': standin.token } });
    expect(response.status).toBe(429);
    expect(response.headers.get('content-type')).toContain('text/plain');
    expect(await response.text()).toBe('Retry later\n');
    expect(response.headers.get('retry-after')).toBe('7');
    for (const header of ['ratelimit-limit', 'ratelimit-observed', 'ratelimit-remaining', 'ratelimit-reset', 'ratelimit-resettime', 'ratelimit-name']) {
      expect(response.headers.get(header), header).not.toBeNull();
    }
  });

  it("500 is not retried and surfaces with status 500 and GitLab's message", async () => {
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 500 });
    const error = await requestError(api.Issues.create(PROJECT_ID, 'boom'));
    expect(error.cause?.response.status).toBe(500);
    expect(error.message).toBe('500 Internal Server Error');
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(1);
    expect(standin.issues()).toHaveLength(0);
  });

  it('a fault with times counts down and is removed at zero', async () => {
    standin.injectFault({ path: /\/projects\/42$/, status: 503, times: 2 });
    await requestError(api.Projects.show(PROJECT_ID));
    await requestError(api.Projects.show(PROJECT_ID));
    await expect(api.Projects.show(PROJECT_ID)).resolves.toMatchObject({ id: PROJECT_ID });
  });

  it('matches fault paths against the decoded path as well', async () => {
    standin.injectFault({ path: /projects\/soak\/svc\/issues$/, status: 500 });
    const error = await requestError(api.Issues.all({ projectId: PROJECT_PATH }));
    expect(error.cause?.response.status).toBe(500);
  });

  it('dropConnection fails the call with a network TypeError, which gitbeaker does not retry', async () => {
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 500, dropConnection: true });
    const error = await rejectionOf(api.Issues.create(PROJECT_ID, 'lost'));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fetch failed');
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(1);
    // The request reached the server before the connection dropped: nothing was stored, but it could have been.
    expect(standin.issues()).toHaveLength(0);
  });

  it('dropAfterServing performs the request and then drops the connection: the call fails but the issue exists', async () => {
    standin.injectFault({ method: 'POST', path: /\/issues$/, status: 201, dropAfterServing: true });
    const error = await rejectionOf(api.Issues.create(PROJECT_ID, 'written, answer lost', { labels: 'race' }));
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fetch failed');
    expect(requestsTo('POST', /\/issues$/)).toHaveLength(1);
    expect(standin.issues(PROJECT_ID)).toMatchObject([{ iid: 1, title: 'written, answer lost', labels: ['race'] }]);
    // Used up: the next create is answered normally.
    await expect(api.Issues.create(PROJECT_ID, 'second')).resolves.toMatchObject({ iid: 2 });
  });

  it('clearFaults disarms every fault, including a permanent one', async () => {
    standin.injectFault({ status: 503, times: Infinity });
    await requestError(api.Projects.show(PROJECT_ID));
    await requestError(api.Projects.show(PROJECT_ID));
    standin.clearFaults();
    await expect(api.Projects.show(PROJECT_ID)).resolves.toMatchObject({ id: PROJECT_ID });
  });

  it('delayMs beyond queryTimeout surfaces as GitbeakerTimeoutError', async () => {
    const impatient = new Gitlab({ host: standin.url, token: standin.token, queryTimeout: 200 });
    standin.injectFault({ status: 200, delayMs: 2_000 });
    const error = await rejectionOf(impatient.Projects.show(PROJECT_ID));
    expect(error).toBeInstanceOf(GitbeakerTimeoutError);
  });

  it('a delay-only fault (status below 400) still serves the request', async () => {
    standin.injectFault({ status: 200, delayMs: 100 });
    const started = Date.now();
    await expect(api.Projects.show(PROJECT_ID)).resolves.toMatchObject({ id: PROJECT_ID });
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});

describe('revoked token, flaky mode, refused writes', () => {
  it('revokeToken: every request answers 401 {"message":"401 Unauthorized"} until restoreToken', async () => {
    await api.Issues.create(PROJECT_ID, 'before');
    standin.revokeToken();
    for (const call of [
      () => api.Projects.show(PROJECT_ID),
      () => api.Issues.create(PROJECT_ID, 'while revoked'),
      () => api.Issues.all({ projectId: PROJECT_ID }),
    ]) {
      const error = await requestError(call());
      expect(error.cause?.response.status).toBe(401);
      expect(error.message).toBe('401 Unauthorized');
    }
    const raw = await fetch(`${standin.url}/api/v4/nowhere`, { headers: { 'private-token': standin.token } });
    expect(raw.status).toBe(401);
    expect(await raw.json()).toEqual({ message: '401 Unauthorized' });
    expect(standin.issues()).toHaveLength(1);
    standin.restoreToken();
    await expect(api.Issues.create(PROJECT_ID, 'after')).resolves.toMatchObject({ iid: 2 });
  });

  async function statusesUnderFlaky(seed: number): Promise<string[]> {
    const flaky = await startGitlabStandin();
    try {
      flaky.setFlaky({ seed, rate: 0.5, kinds: ['error500', 'error502', 'rateLimited'] });
      const outcomes: string[] = [];
      for (let i = 0; i < 40; i++) {
        const response = await fetch(`${flaky.url}/api/v4/projects/${PROJECT_ID}`, { headers: { 'private-token': flaky.token } });
        outcomes.push(`${response.status}${response.status === 429 ? `/retry-after ${response.headers.get('retry-after')}` : ''}`);
      }
      expect(Object.values(flaky.flakyHits()).reduce((a, b) => a + b, 0)).toBe(outcomes.filter((o) => o !== '200').length);
      return outcomes;
    } finally {
      await flaky.close();
    }
  }

  it('setFlaky: the seed decides which requests fail and how; a rate of 0.5 hits some, not all; 429 says Retry-After: 1', async () => {
    const first = await statusesUnderFlaky(11);
    expect(await statusesUnderFlaky(11)).toEqual(first);
    expect(await statusesUnderFlaky(12)).not.toEqual(first);
    expect(new Set(first)).toEqual(new Set(['200', '500', '502', '429/retry-after 1']));
  });

  it('setFlaky: dropAfterServing stores the write and loses the answer, dropConnection stores nothing; setFlaky(null) stops', async () => {
    standin.setFlaky({ seed: 1, rate: 1, kinds: ['dropAfterServing'] });
    expect(await rejectionOf(api.Issues.create(PROJECT_ID, 'stored, answer lost'))).toBeInstanceOf(TypeError);
    expect(standin.issues()).toHaveLength(1);
    standin.setFlaky({ seed: 1, rate: 1, kinds: ['dropConnection'] });
    expect(await rejectionOf(api.Issues.create(PROJECT_ID, 'never stored'))).toBeInstanceOf(TypeError);
    expect(standin.issues()).toHaveLength(1);
    expect(standin.flakyHits()).toMatchObject({ dropConnection: 1, dropAfterServing: 0 });
    standin.setFlaky(null);
    await expect(api.Issues.create(PROJECT_ID, 'healthy again')).resolves.toMatchObject({ iid: 2 });
    expect(standin.flakyHits()).toMatchObject({ dropConnection: 1 });
  });

  it('setFlaky slowWrite delays only POST and PUT, by slowWriteMs, then serves them: a client that gave up finds the write later', async () => {
    standin.setFlaky({ seed: 3, rate: 1, kinds: ['slowWrite'], slowWriteMs: [300, 400] });
    const started = Date.now();
    await expect(api.Projects.show(PROJECT_ID)).resolves.toMatchObject({ id: PROJECT_ID });
    expect(Date.now() - started).toBeLessThan(300);
    const impatient = new Gitlab({ host: standin.url, token: standin.token, queryTimeout: 100 });
    expect(await rejectionOf(impatient.Issues.create(PROJECT_ID, 'landed late'))).toBeInstanceOf(GitbeakerTimeoutError);
    expect(standin.issues()).toHaveLength(0);
    await standin.whenIdle();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(standin.issues()).toMatchObject([{ title: 'landed late' }]);
    expect(standin.flakyHits().slowWrite).toBe(1);
  });

  it('setFlaky refuses a rate outside 0..1 and unknown kinds', () => {
    expect(() => standin.setFlaky({ seed: 1, rate: 2, kinds: ['error500'] })).toThrow(/rate/);
    expect(() => standin.setFlaky({ seed: 1, rate: 0.5, kinds: ['meteor' as 'error500'] })).toThrow(/kinds/);
    expect(() => standin.setFlaky({ seed: 1, rate: 0.5, kinds: [] })).toThrow(/kinds/);
  });

  it('refuseWrites: POST and PUT (optionally only matching a path) answer that status and change nothing; GET still works', async () => {
    await api.Issues.create(PROJECT_ID, 'existing');
    standin.refuseWrites(500, /\/notes$/);
    const note = await requestError(api.IssueNotes.create(PROJECT_ID, 1, 'refused'));
    expect(note.cause?.response.status).toBe(500);
    expect(note.message).toBe('500 Internal Server Error');
    expect(standin.notes(PROJECT_ID, 1)).toEqual([]);
    await expect(api.Issues.edit(PROJECT_ID, 1, { stateEvent: 'close' })).resolves.toMatchObject({ state: 'closed' });

    standin.refuseWrites(503);
    expect((await requestError(api.Issues.create(PROJECT_ID, 'refused'))).cause?.response.status).toBe(503);
    expect((await requestError(api.Issues.edit(PROJECT_ID, 1, { stateEvent: 'reopen' }))).cause?.response.status).toBe(503);
    await expect(api.Issues.all({ projectId: PROJECT_ID })).resolves.toMatchObject([{ iid: 1, state: 'closed' }]);
    expect(standin.issues()).toHaveLength(1);

    standin.refuseWrites(null);
    await expect(api.IssueNotes.create(PROJECT_ID, 1, 'accepted')).resolves.toMatchObject({ body: 'accepted' });
    expect(() => standin.refuseWrites(200)).toThrow(/error status/);
  });
});
