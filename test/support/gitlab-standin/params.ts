import { paramError } from './http.js';

/** Request parameters the way Grape sees them: query string and body merged, body winning. */
export class Params {
  private readonly values: Record<string, unknown>;

  constructor(query: Record<string, unknown>, body: unknown) {
    const bodyValues = body !== null && typeof body === 'object' && !Array.isArray(body) ? body : {};
    this.values = { ...query, ...bodyValues };
  }

  has(name: string): boolean {
    return this.raw(name) !== undefined;
  }

  string(name: string): string | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    if (Array.isArray(value) || typeof value === 'object') throw paramError(`${name} is invalid`);
    return String(value);
  }

  int(name: string): number | undefined {
    const text = this.string(name);
    if (text === undefined || text === '') return undefined;
    if (!/^-?\d+$/.test(text.trim())) throw paramError(`${name} is invalid`);
    return Number(text);
  }

  /** Grape's CommaSeparatedToArray: accepts "a,b", ["a","b"] and labels[]=a&labels[]=b. */
  list(name: string): string[] | undefined {
    const value = this.raw(name);
    if (value === undefined || value === null) return undefined;
    const parts = Array.isArray(value) ? value.map(String) : String(value).split(',');
    return parts.map((part) => part.trim()).filter((part) => part !== '');
  }

  intList(name: string): number[] | undefined {
    const items = this.list(name);
    if (items === undefined) return undefined;
    if (items.some((item) => !/^\d+$/.test(item))) throw paramError(`${name} is invalid`);
    return items.map(Number);
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const value = this.string(name);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) throw paramError(`${name} does not have a valid value`);
    return value as T;
  }

  private raw(name: string): unknown {
    return this.values[name] ?? this.values[`${name}[]`];
  }
}
