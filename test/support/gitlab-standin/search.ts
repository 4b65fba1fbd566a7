// Approximates GitLab's issue search (PgFullTextSearchable: to_tsvector('english') over title and
// description, queried with to_tsquery and a `:*` prefix per term). Stemming and stop words are not
// emulated; what matters for clients is which text is NOT searchable and that terms match as prefixes.
import type { StoredIssue } from './types.js';

export type SearchField = 'title' | 'description';

// Blanked by GitLab before indexing (PgFullTextSearchable::LONG_WORDS_REGEX), e.g. a 64-hex SHA-256.
const LONG_WORDS = /[A-Za-z0-9+/@]{50,}/g;
// PostgreSQL's parser emits comments and tags as `tag` tokens, which the english config does not index.
const HTML_COMMENT = /<!--[\s\S]*?-->/g;
const HTML_TAG = /<\/?[A-Za-z][^<>]*>/g;
const URL_SCHEME = /(?<=^|\W)\w+:\/\/(?=\w)/g;
const TSQUERY_DISALLOWED = /[^a-zA-Z0-9 .@/\-"]/g;
const WORD_SEPARATORS = /[^\p{L}\p{N}\-./@]+/u;
const EDGE_PUNCTUATION = /^[-./@]+|[-./@]+$/g;

interface QueryTerm {
  tokens: string[];
  prefix: boolean;
}

export function searchFields(inParam: string | undefined): SearchField[] {
  const wanted = (inParam ?? '').split(',').map((f) => f.trim());
  const fields = wanted.filter((f): f is SearchField => f === 'title' || f === 'description');
  return fields.length > 0 ? fields : ['title', 'description'];
}

export function matchesSearch(issue: StoredIssue, query: string, fields: SearchField[]): boolean {
  const terms = parseQuery(query);
  if (terms.length === 0) return false;
  const indexed = fields.flatMap((field) => indexTokens(issue[field] ?? ''));
  return terms.every((term) => term.tokens.every((token) => indexed.some((word) => (term.prefix ? word.startsWith(token) : word === token))));
}

export function indexTokens(text: string): string[] {
  return words(text.replace(LONG_WORDS, ' ').replace(HTML_COMMENT, ' ').replace(HTML_TAG, ' '));
}

function parseQuery(query: string): QueryTerm[] {
  const cleaned = query.replace(URL_SCHEME, '').replace(TSQUERY_DISALLOWED, ' ');
  const terms: QueryTerm[] = [];
  // Gitlab::SQL::Pattern.split_query_to_search_terms keeps "quoted phrases" together, without prefix.
  for (const match of cleaned.matchAll(/"([^"]*)"|[^\s"]+/g)) {
    const phrase = match[1];
    const term = phrase === undefined ? { tokens: words(match[0]), prefix: true } : { tokens: words(phrase), prefix: false };
    if (term.tokens.length > 0) terms.push(term);
  }
  return terms;
}

function words(text: string): string[] {
  const tokens: string[] = [];
  for (const chunk of text.toLowerCase().split(WORD_SEPARATORS)) {
    const word = chunk.replace(EDGE_PUNCTUATION, '');
    if (word === '') continue;
    tokens.push(word);
    // PostgreSQL indexes a hyphenated word whole and also each part; host/file/email tokens stay whole.
    if (word.includes('-') && !/[./@]/.test(word)) tokens.push(...word.split('-').filter((part) => part !== ''));
  }
  return tokens;
}
