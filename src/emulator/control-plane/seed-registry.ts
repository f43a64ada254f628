import { seededThingName } from '../seed-things.js';
import type { ThingRegistry } from './thing-registry.js';

/** Regions and their sites; thing i is in region i % 3 (as its seeded shadow's `reported.region`). */
const SITES: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'eu-west': ['berlin', 'dublin', 'paris'],
  'us-east': ['virginia', 'ohio'],
  'ap-south': ['mumbai', 'chennai'],
});
const REGIONS = ['eu-west', 'us-east', 'ap-south'] as const;
const MODELS = ['th-200', 'th-210', 'pm-4', 'gw-1'] as const;

/** The group tree the seeded registry builds: `fleet` > region groups > site groups. */
export const SEEDED_GROUP_TREE = Object.freeze({ root: 'fleet', regions: REGIONS, sites: SITES });

/** Where seeded thing i sits: its region, site and model (the same model and region as its seeded shadow). */
export function seededPlacement(i: number): { region: string; site: string; model: string } {
  const region = REGIONS[i % REGIONS.length]!;
  const sites = SITES[region]!;
  // Region uses i % 3, so the site takes the quotient: every site of a region gets things.
  const site = sites[Math.floor(i / REGIONS.length) % sites.length]!;
  return { region, site, model: MODELS[i % MODELS.length]! };
}

/**
 * Registers the seeded things (`device-000001`, ...) with attributes `site`, `model` and
 * `region`, builds the group tree `fleet > eu-west|us-east|ap-south > site`, puts each thing in
 * its site group, and marks 9 things in 10 connected. Deterministic: it depends on the index
 * alone, not on the seed of the shadows, so seeded shadows are unchanged.
 */
export function seedRegistry(registry: ThingRegistry, count: number, nowMs = Date.now()): void {
  registry.createGroup('fleet', { description: 'every seeded device' }, nowMs);
  for (const region of REGIONS) {
    registry.createGroup(region, { parentGroupName: 'fleet', attributes: { region } }, nowMs);
    for (const site of SITES[region]!)
      registry.createGroup(site, { parentGroupName: region, attributes: { site } }, nowMs);
  }
  for (let i = 0; i < count; i++) {
    const name = seededThingName(i);
    const { region, site, model } = seededPlacement(i);
    registry.createThing(name, { attributes: { site, model, region } });
    registry.addThingToGroup(name, site);
    const connected = i % 10 !== 9;
    registry.setConnectivity(
      name,
      connected
        ? { connected, timestamp: nowMs - (i % 3600) * 1000 }
        : { connected, timestamp: nowMs - 3_600_000, disconnectReason: 'CONNECTION_LOST' },
    );
  }
}
