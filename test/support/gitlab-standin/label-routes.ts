import { renderLabel, renderProject, renderUser } from './entities.js';
import { apiError, modelError, paramError, type Reply } from './http.js';
import { paginate } from './pagination.js';
import type { BaseContext, ProjectContext } from './routes.js';
import { BOT_USERNAME } from './store.js';

// Gitlab::Color accepts hex codes and CSS colour names (stored as hex); a few common names suffice here.
const NAMED_COLORS: Record<string, string> = {
  black: '#000000',
  blue: '#0000ff',
  gray: '#808080',
  green: '#008000',
  grey: '#808080',
  orange: '#ffa500',
  purple: '#800080',
  red: '#ff0000',
  white: '#ffffff',
  yellow: '#ffff00',
};

export function listLabels(ctx: ProjectContext): Reply {
  const search = ctx.params.string('search')?.toLowerCase();
  const withCounts = ctx.params.string('with_counts') === 'true';
  const labels = ctx.store
    .projectLabels(ctx.project.id)
    .filter((l) => !search || l.name.toLowerCase().includes(search) || (l.description ?? '').toLowerCase().includes(search));
  const page = paginate(labels, ctx.params, ctx.requestUrl);
  return { status: 200, body: page.items.map((label) => renderLabel(ctx, label, withCounts)), headers: page.headers };
}

export function createLabel(ctx: ProjectContext): Reply {
  const { params, store, project } = ctx;
  const name = params.string('name');
  const color = params.string('color');
  const missing = [name === undefined && 'name is missing', color === undefined && 'color is missing'].filter(Boolean);
  if (missing.length > 0) throw paramError(missing.join(', '));
  if (store.findLabel(project.id, name!)) throw apiError(409, 'Label already exists');
  const title = name!.trim();
  if (title === '') throw modelError('title', "can't be blank");
  if (title.includes(',')) throw modelError('title', 'is invalid');
  const hex = normalizeColor(color!);
  if (!hex) throw modelError('color', 'must be a valid color code');
  const label = store.createLabel(project.id, title, hex, params.string('description') ?? null);
  return { status: 201, body: renderLabel(ctx, label, false) };
}

export function showProject(ctx: ProjectContext): Reply {
  return { status: 200, body: renderProject(ctx, ctx.project) };
}

export function showCurrentUser(ctx: BaseContext): Reply {
  return { status: 200, body: { ...renderUser(ctx, BOT_USERNAME), bot: true, email: `${BOT_USERNAME}@example.invalid` } };
}

function normalizeColor(color: string): string | undefined {
  const value = color.trim().toLowerCase();
  if (/^#([0-9a-f]{3}|[0-9a-f]{6})$/.test(value)) return value;
  return NAMED_COLORS[value];
}
