/**
 * Micro benchmark behind metadataForJsonText: rendering per-leaf metadata of a ~450-byte stored
 * section from its JSON text in one character pass, against parsing the text and walking the
 * value (metadataForJson). Both give the same string (pinned by test/shadow/merge-properties).
 *
 *   node --import tsx bench/emulator/metadata-text.bench.ts
 */
import { Bench } from 'tinybench';
import { metadataForJson, metadataForJsonText } from '../../src/shadow/metadata.js';
import type { JsonValue } from '../../src/shadow/types.js';

const section = JSON.stringify({
  telemetry: { sampleRateHz: 5, batchSize: 32, topics: ['telemetry', 'health'] },
  thresholds: { tempHigh: 78.5, tempLow: -10, humidityHigh: 90 },
  mode: 'auto',
  firmware: '1.4.2',
  model: 'th-200',
  region: 'eu-west',
  battery: 88,
  rssi: -71,
  uptimeSec: 123456,
  sensors: { temperature: 21.5, humidity: 40.1 },
  serial: 'SN-00001234',
});

const bench = new Bench({ time: Number(process.env.BENCH_MS ?? 500) });
bench
  .add('metadataForJsonText (one pass over the text)', () => {
    metadataForJsonText(section, 1700000000);
  })
  .add('JSON.parse + metadataForJson (walk the value)', () => {
    metadataForJson(JSON.parse(section) as JsonValue, 1700000000);
  });
await bench.run();
console.log(`section: ${section.length} bytes`);
console.table(bench.table());
