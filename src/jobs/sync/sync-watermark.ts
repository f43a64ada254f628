/**
 * The version watermark of a sync: per source shadow (thing, shadow name), the source version
 * last brought to the destination. A `--watch` pass sends a thing only when one of its source
 * shadows moved (a new version, a new shadow) or went away; a pass over an unchanged source
 * sends nothing and reads nothing on the destination.
 *
 * Kept in memory for a watch; saved to a file (atomic rename) so a restarted watch carries on.
 */
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../../errors.js';
import { writeFileAtomic } from '../../io/write-file-atomic.js';

/** `thing` for the classic shadow, `thing/name` for a named one (the journal's key). */
export function shadowKey(thing: string, shadow: string | null | undefined): string {
  return shadow === null || shadow === undefined ? thing : `${thing}/${shadow}`;
}

const FORMAT = 'shadowfleet-sync-watermark';

export class SyncWatermark {
  /** thing -> (shadow name or '' for classic) -> source version. */
  readonly #things = new Map<string, Map<string, number>>();
  /** Things seen in the current pass. */
  #seen = new Set<string>();

  /** Number of shadows held (a thing held with no shadows counts none). */
  get size(): number {
    let n = 0;
    for (const m of this.#things.values()) n += m.size;
    return n;
  }

  /** Starts a pass: `missingThings` will list things held but not seen since. */
  beginPass(): void {
    this.#seen = new Set();
  }

  /**
   * Notes a thing of the source and its shadows' versions; true when the thing must be sent:
   * a shadow is new or its version moved, or a shadow held before is gone.
   */
  observe(thing: string, shadows: ReadonlyArray<{ shadow: string | null; version: number }>): boolean {
    this.#seen.add(thing);
    const held = this.#things.get(thing);
    if (held === undefined) return true;
    if (held.size !== shadows.length) return true;
    for (const s of shadows) if (held.get(s.shadow ?? '') !== s.version) return true;
    return false;
  }

  /** Notes a thing of the source that is not sent this pass (e.g. its read failed): not gone, not moved. */
  seen(thing: string): void {
    this.#seen.add(thing);
  }

  /** Records what the destination now holds for `thing` (after a successful write, or when unchanged). */
  record(thing: string, shadows: ReadonlyArray<{ shadow: string | null; version: number }>): void {
    this.#things.set(thing, new Map(shadows.map((s) => [s.shadow ?? '', s.version])));
  }

  /** Forgets a thing (its write failed: the next pass sends it again). */
  forget(thing: string): void {
    this.#things.delete(thing);
  }

  /** Things held but not seen in this pass: gone from the source. */
  missingThings(): string[] {
    return [...this.#things.keys()].filter((t) => !this.#seen.has(t));
  }

  /** True when the thing is held. */
  has(thing: string): boolean {
    return this.#things.has(thing);
  }

  toJSON(): { format: string; things: Record<string, Record<string, number>> } {
    const things: Record<string, Record<string, number>> = {};
    for (const [t, m] of this.#things) things[t] = Object.fromEntries(m);
    return { format: FORMAT, things };
  }

  /** Writes the watermark (atomic rename). */
  async save(file: string): Promise<void> {
    await writeFileAtomic(file, `${JSON.stringify(this.toJSON())}\n`);
  }

  /** Reads a saved watermark; a missing file is an empty watermark. */
  static async load(file: string): Promise<SyncWatermark> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return new SyncWatermark();
      throw new ConfigError(
        `${file}: cannot read the sync watermark (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
        { cause: err },
      );
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new ConfigError(`${file}: not a sync watermark (${(err as Error).message})`, { cause: err });
    }
    const d = data as { format?: unknown; things?: unknown };
    if (d?.format !== FORMAT || typeof d.things !== 'object' || d.things === null)
      throw new ConfigError(`${file}: not a sync watermark (format ${FORMAT} expected)`);
    const w = new SyncWatermark();
    for (const [t, m] of Object.entries(d.things as Record<string, Record<string, unknown>>)) {
      const shadows = Object.entries(m).filter((e): e is [string, number] => Number.isInteger(e[1]));
      w.#things.set(t, new Map(shadows));
    }
    return w;
  }
}
