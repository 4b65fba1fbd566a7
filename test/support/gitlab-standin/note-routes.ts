import { renderNote } from './entities.js';
import { badRequest, notFound, paramError, recordNotFound, type Reply } from './http.js';
import { charCount, recordQuickActions } from './issue-routes.js';
import { paginate } from './pagination.js';
import { extractQuickActions, interpretQuickActions, type Interpretation } from './quick-actions.js';
import type { ProjectContext } from './routes.js';
import { BOT_USERNAME } from './store.js';
import type { StoredIssue } from './types.js';

const NOTE_MAX_CHARS = 1_000_000;

export function listNotes(ctx: ProjectContext): Reply {
  const issue = findNoteable(ctx);
  const orderBy = ctx.params.oneOf('order_by', ['created_at', 'updated_at'], 'created_at') === 'updated_at' ? 'updatedAt' : 'createdAt';
  const direction = ctx.params.oneOf('sort', ['asc', 'desc'], 'desc') === 'asc' ? 1 : -1;
  const notes = ctx.store.issueNotes(issue.projectId, issue.iid);
  notes.sort((a, b) => (a[orderBy] < b[orderBy] ? -1 : a[orderBy] > b[orderBy] ? 1 : 0) * direction || b.id - a.id);
  const page = paginate(notes, ctx.params, ctx.requestUrl);
  return { status: 200, body: page.items.map((note) => renderNote(ctx, note, issue.id)), headers: page.headers };
}

export function showNote(ctx: ProjectContext): Reply {
  const issue = findNoteable(ctx);
  const note = ctx.store.issueNotes(issue.projectId, issue.iid).find((n) => n.id === Number(ctx.captures[1]));
  if (!note) throw recordNotFound();
  return { status: 200, body: renderNote(ctx, note, issue.id) };
}

export function createNote(ctx: ProjectContext): Reply {
  const { store } = ctx;
  const issue = findNoteable(ctx);
  const body = ctx.params.string('body');
  if (body === undefined) throw paramError('body is missing');
  const { text, actions } = extractQuickActions(body);
  const target = { projectId: issue.projectId, state: issue.state, labels: issue.labels, assignees: issue.assignees };
  const commands = interpretQuickActions(store, target, actions);
  if (actions.length > 0 && text.trim() === '') return commandsOnlyReply(ctx, issue, commands);
  validateNoteText(text);
  store.updateIssue(issue, commands.changes, BOT_USERNAME);
  recordQuickActions(store, issue, commands.outcomes, 'note');
  const note = store.addNote(issue, text, BOT_USERNAME);
  return { status: 201, body: renderNote(ctx, note, issue.id) };
}

// A note made only of commands is not saved: 202 with the NoteCommands entity, or 400 if one failed.
function commandsOnlyReply(ctx: ProjectContext, issue: StoredIssue, commands: Interpretation): Reply {
  const failed = commands.outcomes.filter((outcome) => !outcome.applied);
  if (failed.length > 0) throw badRequest(failed.map((f) => `Could not apply ${f.name} command.`).join(', '));
  ctx.store.updateIssue(issue, commands.changes, BOT_USERNAME);
  recordQuickActions(ctx.store, issue, commands.outcomes, 'note');
  return { status: 202, body: { commands_changes: commands.commandsChanges, summary: commands.summary } };
}

// Note validation errors go through bad_request!("Note #{errors.messages}"), i.e. a Ruby hash inspect.
function validateNoteText(text: string): void {
  if (text.trim() === '') throw badRequest('Note {:note=>["can\'t be blank"]}');
  if (charCount(text) > NOTE_MAX_CHARS) throw badRequest(`Note {:note=>["is too long (maximum is ${NOTE_MAX_CHARS} characters)"]}`);
}

function findNoteable(ctx: ProjectContext): StoredIssue {
  const issue = ctx.store.findIssue(ctx.project.id, Number(ctx.captures[0]));
  if (!issue) throw notFound('Issue');
  return issue;
}
