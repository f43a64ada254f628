import { InvalidArgumentError } from '../errors.js';

/** Which shadows of a thing a snapshot, restore or sync reads. Structured-clone safe (it travels to workers). */
export interface ShadowFilter {
  /** Read the classic (unnamed) shadow. */
  classic: boolean;
  /** Read named shadows (ListNamedShadowsForThing, then each GET). */
  named: boolean;
  /** When set, only named shadows whose name matches one of these globs (`*` any run, `?` one character). */
  patterns?: string[];
}

export const DEFAULT_SHADOW_FILTER: Readonly<ShadowFilter> = Object.freeze({ classic: true, named: true });

/**
 * Parses `--shadows`: a comma-separated list of `classic`, `named` (every named shadow) and
 * name globs (named shadows matching, e.g. `config*`). Examples: `classic,named` (the default),
 * `classic`, `named`, `classic,config*,ota-?`.
 */
export function parseShadowFilter(text: string | undefined, option = 'shadows'): ShadowFilter {
  if (text === undefined || text.trim() === '') return { ...DEFAULT_SHADOW_FILTER };
  const f: ShadowFilter = { classic: false, named: false };
  const patterns: string[] = [];
  let allNamed = false;
  for (const raw of text.split(',')) {
    const t = raw.trim();
    if (t === '') continue;
    if (t === 'classic') f.classic = true;
    else if (t === 'named') allNamed = true;
    else if (/^[A-Za-z0-9:_\-*?]+$/.test(t)) patterns.push(t);
    else
      throw new InvalidArgumentError(
        `${option}: "${t}" is neither classic, named nor a shadow name pattern (letters, digits, : _ - and the wildcards * ?)`,
      );
  }
  if (allNamed || patterns.length > 0) f.named = true;
  if (!allNamed && patterns.length > 0) f.patterns = patterns;
  if (!f.classic && !f.named)
    throw new InvalidArgumentError(`${option}: choose at least one of classic, named or a name pattern`);
  return f;
}

/** The filter back as text (for the manifest). */
export function formatShadowFilter(f: ShadowFilter): string {
  const parts: string[] = [];
  if (f.classic) parts.push('classic');
  if (f.named) parts.push(...(f.patterns ?? ['named']));
  return parts.join(',');
}

/** A matcher for a filter's named-shadow globs. */
export function shadowNameMatcher(f: ShadowFilter): (name: string) => boolean {
  if (!f.named) return () => false;
  if (!f.patterns || f.patterns.length === 0) return () => true;
  const re = new RegExp(
    `^(?:${f.patterns
      .map((p) =>
        p
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.'),
      )
      .join('|')})$`,
  );
  return (name) => re.test(name);
}
