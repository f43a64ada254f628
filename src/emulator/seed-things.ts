import type { ShadowStore } from './shadow-store.js';
import { seededRandom } from './seeded-random.js';

const MODELS = ['th-200', 'th-210', 'pm-4', 'gw-1'];
const FIRMWARE = ['1.4.2', '1.4.3', '1.5.0'];
const REGIONS = ['eu-west', 'us-east', 'ap-south'];

/** The name of the i-th seeded thing (zero-based): `device-000001`, ... */
export function seededThingName(i: number): string {
  return `device-${String(i + 1).padStart(6, '0')}`;
}

/**
 * Seeds `count` things with realistic shadows: every thing has a classic shadow (desired
 * config and a reported state that mostly matches, about 500 bytes), a named `config`
 * shadow, and every third thing a named `firmware` shadow. Deterministic for a given seed.
 */
export function seedThings(store: ShadowStore, count: number, options: { seed?: number; nowMs?: number } = {}): void {
  const random = seededRandom(options.seed ?? 42);
  const now = options.nowMs ?? Date.now();
  for (let i = 0; i < count; i++) {
    const name = seededThingName(i);
    const fw = FIRMWARE[Math.floor(random() * FIRMWARE.length)]!;
    const sampleRate = [1, 5, 10][Math.floor(random() * 3)]!;
    const desired = {
      telemetry: { sampleRateHz: sampleRate, batchSize: 32, topics: ['telemetry', 'health'] },
      thresholds: { tempHigh: 78.5, tempLow: -10, humidityHigh: 90 },
      mode: 'auto',
      firmware: fw,
    };
    const drift = random() < 0.2;
    const reported = {
      telemetry: { sampleRateHz: drift ? 1 : sampleRate, batchSize: 32, topics: ['telemetry', 'health'] },
      thresholds: { tempHigh: 78.5, tempLow: -10, humidityHigh: 90 },
      mode: 'auto',
      firmware: fw,
      model: MODELS[i % MODELS.length]!,
      region: REGIONS[i % REGIONS.length]!,
      battery: Math.round(random() * 100),
      rssi: -40 - Math.round(random() * 50),
      uptimeSec: Math.floor(random() * 1e6),
      sensors: { temperature: Math.round(random() * 400) / 10, humidity: Math.round(random() * 1000) / 10 },
    };
    store.update(name, undefined, JSON.stringify({ state: { desired, reported } }), now);
    store.update(
      name,
      'config',
      JSON.stringify({
        state: {
          desired: { logLevel: 'info', reportIntervalSec: 60, features: { ota: true, diagnostics: false } },
          reported: { logLevel: 'info', reportIntervalSec: 60, features: { ota: true, diagnostics: false } },
        },
      }),
      now,
    );
    if (i % 3 === 0) {
      store.update(
        name,
        'firmware',
        JSON.stringify({
          state: {
            desired: { version: fw, channel: 'stable' },
            reported: { version: fw, channel: 'stable', lastCheck: Math.floor(now / 1000) },
          },
        }),
        now,
      );
    }
  }
}
