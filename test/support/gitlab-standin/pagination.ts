// Offset pagination as GitLab documents it (doc/api/rest/index.md, "Pagination"): x-* headers plus a
// Link header with prev/next/first/last built from the request's own query string.
import type { Params } from './params.js';

const DEFAULT_PER_PAGE = 20;
const MAX_PER_PAGE = 100;
// Above this many records GitLab omits x-total, x-total-pages and rel="last" for performance.
const MAX_COUNTED = 10_000;

export interface Page<T> {
  items: T[];
  headers: Record<string, string>;
}

export function paginate<T>(all: T[], params: Params, requestUrl: URL): Page<T> {
  const perPage = clampPerPage(params.int('per_page'));
  const page = Math.max(1, params.int('page') ?? 1);
  const total = all.length;
  const totalPages = Math.max(1, Math.ceil(total / perPage));
  const next = page < totalPages ? page + 1 : undefined;
  const prev = page > 1 ? page - 1 : undefined;
  const counted = total <= MAX_COUNTED;
  const pageUrl = (n: number) => urlForPage(requestUrl, n, perPage);
  const links = [
    prev && `<${pageUrl(prev)}>; rel="prev"`,
    next && `<${pageUrl(next)}>; rel="next"`,
    `<${pageUrl(1)}>; rel="first"`,
    counted && `<${pageUrl(totalPages)}>; rel="last"`,
  ].filter(Boolean);
  const headers: Record<string, string> = {
    'x-page': String(page),
    'x-per-page': String(perPage),
    'x-next-page': next ? String(next) : '',
    'x-prev-page': prev ? String(prev) : '',
    link: links.join(', '),
  };
  if (counted) {
    headers['x-total'] = String(total);
    headers['x-total-pages'] = String(totalPages);
  }
  return { items: all.slice((page - 1) * perPage, page * perPage), headers };
}

function clampPerPage(requested: number | undefined): number {
  if (requested === undefined || requested < 1) return DEFAULT_PER_PAGE;
  return Math.min(requested, MAX_PER_PAGE);
}

function urlForPage(requestUrl: URL, page: number, perPage: number): string {
  const url = new URL(requestUrl.href);
  url.searchParams.set('page', String(page));
  url.searchParams.set('per_page', String(perPage));
  return url.href;
}
