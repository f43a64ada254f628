/**
 * Which wave a target belongs to, decided one target at a time so that targets can stream.
 *
 * A thing's place is a stable hash of its name mapped to [0, 1): a share wave holds the things
 * whose hash is below its cumulative share and that no earlier wave took (5% then 30%: the
 * second wave holds the next 25%). The hash depends on the name alone, so a rerun over the same
 * or a grown list picks the same canaries, and a thing's shadows all go in one wave. A name-file
 * wave holds the targets named in its file; a `where` wave holds the later targets whose shadow
 * meets its condition when the wave is written (the worker decides, on the shadow it reads).
 *
 * With a stream of targets, a wave is one pass over the stream: `select(stream, i)` yields the
 * wave's items and drops the rest, holding nothing but the best fallback candidate (below).
 * The runner opens the targets again for each wave (a file or a snapshot reopens; stdin is
 * spooled to a temporary file first), so memory stays flat whatever the fleet's size; what it
 * keeps is the wave's written things, for its gate.
 *
 * Small fleets: a gated share wave that no thing's hash falls into (5% of 10 things) would
 * skip its canary. Such a wave takes the one thing with the lowest hash among the later waves'
 * things instead (deterministic, so a rerun picks it again); later passes leave it out.
 */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { ConfigError } from '../../../errors.js';
import type { TargetItem } from '../../../engine/task-types.js';
import type { WaveSpec } from './wave-spec.js';

/**
 * A stable share in [0, 1) of a thing name: FNV-1a with a murmur3 finalizer over the name with
 * a `wave` prefix, so the waves are independent of other hashes of the same names (the
 * emulator's simulated faults hash the plain name).
 */
export function waveShare(thingName: string): number {
  let h = 0x811c9dc5;
  const s = `wave\u0000${thingName}`;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** An item of a wave; `condition` set when the worker must check the wave's `where` on the shadow it reads. */
export interface WaveItem {
  item: TargetItem;
  condition?: string;
}

/** Reads a file of thing names (one a line; blank lines and `#` comments skipped) into a set. */
export async function readNameFile(file: string): Promise<Set<string>> {
  const names = new Set<string>();
  try {
    const rl = createInterface({
      input: createReadStream(file, { encoding: 'utf8' }),
      crlfDelay: Number.POSITIVE_INFINITY,
    });
    for await (const raw of rl) {
      const line = raw.trim();
      if (line !== '' && !line.startsWith('#')) names.add(line);
    }
  } catch (err) {
    throw new ConfigError(
      `${file}: cannot read the wave's thing names (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`,
      { cause: err },
    );
  }
  return names;
}

export class WavePlanner {
  readonly waves: readonly WaveSpec[];
  readonly #names: ReadonlyArray<ReadonlySet<string> | undefined>;
  /** Things moved into an otherwise empty gated share wave, by name: wave index. */
  readonly #promoted = new Map<string, number>();

  /** `names[i]` holds the names of wave i when it is a name-file wave (see `WavePlanner.load`). */
  constructor(waves: readonly WaveSpec[], names: ReadonlyArray<ReadonlySet<string> | undefined> = []) {
    this.waves = waves;
    this.#names = waves.map((w, i) => {
      if (w.things !== undefined && names[i] === undefined)
        throw new ConfigError(`waves[${i}].things: the names of ${w.things} were not loaded`);
      return names[i];
    });
  }

  /** Reads the name files of the waves and builds the planner. */
  static async load(waves: readonly WaveSpec[]): Promise<WavePlanner> {
    const names = await Promise.all(waves.map((w) => (w.things === undefined ? undefined : readNameFile(w.things))));
    return new WavePlanner(waves, names);
  }

  get count(): number {
    return this.waves.length;
  }

  /** The first share or name-file wave holding the thing (where-waves aside). The last wave is 100%, so there always is one. */
  staticWave(thingName: string): number {
    const promoted = this.#promoted.get(thingName);
    if (promoted !== undefined) return promoted;
    const h = waveShare(thingName);
    for (let i = 0; i < this.waves.length; i++) {
      const w = this.waves[i]!;
      if (w.share !== undefined && h < w.share) return i;
      if (this.#names[i]?.has(thingName)) return i;
    }
    return this.waves.length - 1;
  }

  /**
   * How a thing stands for wave `i`: `member`, `condition` (a where-wave; the shadow decides),
   * or undefined (an earlier wave holds it, or a later one).
   */
  candidate(thingName: string, i: number): 'member' | 'condition' | undefined {
    const home = this.staticWave(thingName);
    if (home === i) return 'member';
    if (home > i && this.waves[i]!.where !== undefined) return 'condition';
    return undefined;
  }

  /** One pass over the targets: the items of wave `i`, in stream order (a promoted fallback last). */
  async *select(
    items: AsyncIterable<TargetItem> | Iterable<TargetItem>,
    i: number,
    options: { hasMembers?: boolean } = {},
  ): AsyncGenerator<WaveItem> {
    const wave = this.waves[i]!;
    const canPromote = wave.share !== undefined && wave.gate !== undefined;
    // a resumed run's wave may have members the stream no longer holds (finished earlier)
    let any = options.hasMembers === true;
    let bestShare = Number.POSITIVE_INFINITY;
    let best: TargetItem[] = [];
    for await (const item of items) {
      const c = this.candidate(item.thingName, i);
      if (c === 'member') {
        any = true;
        yield { item };
      } else if (c === 'condition') {
        yield { item, condition: wave.where! };
      } else if (canPromote && !any && this.staticWave(item.thingName) > i) {
        const h = waveShare(item.thingName);
        if (h < bestShare) {
          bestShare = h;
          best = [item];
        } else if (h === bestShare && best[0]?.thingName === item.thingName) {
          best.push(item);
        }
      }
    }
    if (!any && best.length > 0) {
      this.#promoted.set(best[0]!.thingName, i);
      for (const item of best) yield { item };
    }
  }

  /**
   * Wave sizes of a target stream (for the dry run), in one pass, holding nothing: things
   * counted per share or name-file wave; where-waves show 0, their things are decided on the
   * shadow and counted in the wave they would otherwise belong to.
   */
  async sizes(items: AsyncIterable<TargetItem> | Iterable<TargetItem>): Promise<number[]> {
    const counter = this.counter();
    for await (const item of items) counter.observe(item, this);
    return counter.sizes(this);
  }

  /** Counts wave sizes as targets pass by (`sizes` in pieces, for a stream someone else reads). */
  counter(): WaveCounter {
    return new WaveCounter(this.waves.length);
  }
}

/** Targets counted per wave as they stream past. */
export class WaveCounter {
  readonly #counts: number[];

  constructor(waves: number) {
    this.#counts = new Array<number>(waves).fill(0);
  }

  observe(item: TargetItem, planner: WavePlanner): void {
    this.#counts[planner.staticWave(item.thingName)]! += 1;
  }

  /** The sizes; an empty gated share wave takes one item of the first later wave that has some (see `select`). */
  sizes(planner: WavePlanner): number[] {
    const counts = [...this.#counts];
    planner.waves.forEach((w, i) => {
      if (w.share === undefined || w.gate === undefined || counts[i] !== 0) return;
      const from = counts.findIndex((n, j) => j > i && n > 0);
      if (from < 0) return;
      counts[from]! -= 1;
      counts[i] = 1;
    });
    return counts;
  }
}
