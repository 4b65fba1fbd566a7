// Quick actions in issue descriptions and notes, after Gitlab::QuickActions::Extractor and
// QuickActions::InterpretService: every known command line is removed from the text, whether or not it
// can be applied; only applicable ones take effect.
//
// Deliberate deviation: GitLab's extractor regex also skips inline-code spans, <tag> blocks and >>>
// quotes, and its multi-line "inline code" alternative can swallow long stretches of text. The stand-in
// only exempts closed backtick fences (CommonMark rule, unindented, closing line made of backticks only),
// so it executes at least every command GitLab executes: text that stays inert here stays inert there.
import { BOT_USERNAME, type IssueChanges, type Store } from './store.js';

export interface QuickAction {
  name: string;
  arg: string | null;
}

export interface Extraction {
  text: string;
  actions: QuickAction[];
}

export interface QuickActionTarget {
  projectId: number;
  state: 'new' | 'opened' | 'closed';
  labels: string[];
  assignees: string[];
}

export interface Interpretation {
  changes: IssueChanges;
  outcomes: Array<QuickAction & { applied: boolean }>;
  commandsChanges: Record<string, unknown>;
  summary: string[];
}

// Effects emulated: close, reopen, label(s), unlabel, relabel, assign, unassign, title.
// The other names are GitLab commands too: recognised and removed, with no emulated effect.
const INERT_COMMANDS = [
  'award',
  'blocked_by',
  'blocks',
  'board_move',
  'clear_health_status',
  'clear_weight',
  'clone',
  'confidential',
  'copy_metadata',
  'create_merge_request',
  'done',
  'draft',
  'due',
  'duplicate',
  'epic',
  'estimate',
  'estimate_time',
  'health_status',
  'iteration',
  'lock',
  'merge',
  'milestone',
  'move',
  'promote',
  'promote_to_incident',
  'react',
  'ready',
  'reassign',
  'relate',
  'remove_due_date',
  'remove_epic',
  'remove_estimate',
  'remove_iteration',
  'remove_milestone',
  'remove_time_estimate',
  'remove_time_spent',
  'remove_zoom',
  'severity',
  'spend',
  'spend_time',
  'spent',
  'status',
  'subscribe',
  'timeline',
  'todo',
  'type',
  'unlock',
  'unrelate',
  'unsubscribe',
  'weight',
  'zoom',
];
const EFFECT_COMMANDS = ['close', 'reopen', 'label', 'labels', 'unlabel', 'remove_label', 'relabel', 'assign', 'unassign', 'title'];
const COMMAND_LINE = new RegExp(`^/(${[...EFFECT_COMMANDS, ...INERT_COMMANDS].join('|')})(?: ([^\\n]*))?\\s*$`, 'i');
const FENCE_OPEN = /^(`{3,})[^`]*$/;

export function extractQuickActions(input: string): Extraction {
  // The extractor deletes every \r and right-strips the result, commands or not.
  const lines = input.replace(/\r/g, '').split('\n');
  const kept: string[] = [];
  const actions: QuickAction[] = [];
  for (let i = 0; i < lines.length; i++) {
    const fenceEnd = closingFenceIndex(lines, i);
    if (fenceEnd !== undefined) {
      kept.push(...lines.slice(i, fenceEnd + 1));
      i = fenceEnd;
      continue;
    }
    const action = parseCommandLine(lines[i]!);
    if (!action) {
      kept.push(lines[i]!);
      continue;
    }
    actions.push(action);
    // The extractor's `\s*\n` also swallows the blank lines that follow a command.
    while (i + 1 < lines.length && lines[i + 1]!.trim() === '') i++;
  }
  return { text: kept.join('\n').trimEnd(), actions };
}

export function interpretQuickActions(store: Store, target: QuickActionTarget, actions: QuickAction[]): Interpretation {
  const result: Interpretation = { changes: {}, outcomes: [], commandsChanges: {}, summary: [] };
  const working = { labels: [...target.labels], assignees: [...target.assignees] };
  for (const action of actions) {
    const handler = HANDLERS[action.name] ?? runInert;
    const message = handler({ store, target, action, working, ...result });
    result.outcomes.push({ ...action, applied: message !== undefined });
    if (message !== undefined) result.summary.push(message);
  }
  return result;
}

interface ActionContext {
  store: Store;
  target: QuickActionTarget;
  action: QuickAction;
  working: { labels: string[]; assignees: string[] };
  changes: IssueChanges;
  commandsChanges: Record<string, unknown>;
}

/** Returns the execution message, or undefined when GitLab would not apply the command. */
type Handler = (ctx: ActionContext) => string | undefined;

const HANDLERS: Record<string, Handler> = {
  close: ({ target, changes, commandsChanges }) => {
    if (target.state !== 'opened') return undefined;
    changes.stateEvent = 'close';
    commandsChanges.state_event = 'close';
    return 'Closed this issue.';
  },
  reopen: ({ target, changes, commandsChanges }) => {
    if (target.state !== 'closed') return undefined;
    changes.stateEvent = 'reopen';
    commandsChanges.state_event = 'reopen';
    return 'Reopened this issue.';
  },
  label: (ctx) => addLabels(ctx, false),
  labels: (ctx) => addLabels(ctx, false),
  relabel: (ctx) => addLabels(ctx, true),
  unlabel: removeLabels,
  remove_label: removeLabels,
  assign: ({ store, action, working, changes, commandsChanges }) => {
    const users = usernames(action.arg);
    if (users.length === 0) return undefined;
    working.assignees = [...new Set([...working.assignees, ...users])];
    changes.assignees = working.assignees;
    commandsChanges.assignee_ids = working.assignees.map((u) => store.user(u).id);
    return `Assigned ${users.map((u) => `@${u}`).join(', ')}.`;
  },
  unassign: ({ store, action, working, changes, commandsChanges }) => {
    const users = action.arg === null ? working.assignees : usernames(action.arg);
    working.assignees = working.assignees.filter((u) => !users.includes(u));
    changes.assignees = working.assignees;
    commandsChanges.assignee_ids = working.assignees.map((u) => store.user(u).id);
    return 'Removed assignees.';
  },
  title: ({ target, action, changes, commandsChanges }) => {
    const title = action.arg?.trim();
    if (target.state === 'new' || !title) return undefined;
    changes.title = title;
    commandsChanges.title = title;
    return `Changed the title to "${title}".`;
  },
};

function runInert({ action }: ActionContext): string {
  return `Ran /${action.name} (no effect emulated by the stand-in).`;
}

function addLabels({ store, target, action, working, changes, commandsChanges }: ActionContext, replace: boolean): string | undefined {
  const found = labelNames(action.arg).filter((name) => store.findLabel(target.projectId, name));
  if (found.length === 0) return undefined;
  if (replace) changes.labels = found;
  else changes.addLabels = [...(changes.addLabels ?? []), ...found];
  working.labels = replace ? found : [...new Set([...working.labels, ...found])];
  commandsChanges.add_label_ids = found.map((name) => store.findLabel(target.projectId, name)!.id);
  return `Added ${labelList(found)}.`;
}

function removeLabels({ store, target, action, working, changes, commandsChanges }: ActionContext): string | undefined {
  const named = labelNames(action.arg).filter((name) => store.findLabel(target.projectId, name));
  const found = action.arg === null ? working.labels : named;
  if (found.length === 0) return undefined;
  changes.removeLabels = [...(changes.removeLabels ?? []), ...found];
  working.labels = working.labels.filter((label) => !found.includes(label));
  commandsChanges.remove_label_ids = found.map((name) => store.findLabel(target.projectId, name)!.id);
  return `Removed ${labelList(found)}.`;
}

function labelList(names: string[]): string {
  return `${names.map((n) => `~"${n}"`).join(' ')} label${names.length > 1 ? 's' : ''}`;
}

function parseCommandLine(line: string): QuickAction | undefined {
  const match = COMMAND_LINE.exec(line);
  if (!match) return undefined;
  const arg = match[2]?.trim();
  return { name: match[1]!.toLowerCase(), arg: arg ? arg : null };
}

/** Index of the line closing a fence opened at `start`, or undefined when `start` opens no closed fence. */
function closingFenceIndex(lines: string[], start: number): number | undefined {
  const opening = FENCE_OPEN.exec(lines[start]!);
  if (!opening) return undefined;
  const width = opening[1]!.length;
  for (let i = start + 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^`+$/.test(line) && line.length >= width) return i;
  }
  return undefined;
}

/** `~foo ~"bar baz" qux` → ["foo", "bar baz", "qux"]. */
function labelNames(arg: string | null): string[] {
  if (arg === null) return [];
  return [...arg.matchAll(/~?"([^"]+)"|~?([^\s"~]+)/g)].map((m) => (m[1] ?? m[2])!);
}

function usernames(arg: string | null): string[] {
  if (arg === null) return [];
  return [...arg.matchAll(/@?([\w.-]+)/g)].map((m) => (m[1] === 'me' ? BOT_USERNAME : m[1]!));
}
