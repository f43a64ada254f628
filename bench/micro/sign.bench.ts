/**
 * Signing alone: the client's SigV4Signer (smithy-derived key, templated canonical request)
 * against @smithy/signature-v4's SignatureV4.sign() as the AWS SDK calls it, for a GET and a
 * POST with a 120-byte shadow update. Run: node --import tsx bench/micro/sign.bench.ts
 */
import { createHash, createHmac, createSecretKey } from 'node:crypto';
import { Bench } from 'tinybench';
import { SignatureV4, getSigningKey } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256, SigV4Signer, payloadHash, EMPTY_PAYLOAD_HASH } from '../../src/client/sigv4-signer.js';

const creds = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY' };
const host = 'abcdefghijklmn-ats.iot.eu-west-1.amazonaws.com';
const path = '/things/pump-00017/shadow';
const body = Buffer.from(
  JSON.stringify({
    state: { desired: { firmware: '2.4.1', mode: 'eco', setpoint: 21.5, schedule: [6, 22] } },
    clientToken: 'rollout-1234',
  }),
);

export async function runSignBench(
  time = Number(process.env.BENCH_MS ?? 1000),
): Promise<Array<Record<string, string | number>>> {
  const smithy = new SignatureV4({ credentials: creds, region: 'eu-west-1', service: 'iotdata', sha256: Sha256 });
  const ours = new SigV4Signer({ region: 'eu-west-1', service: 'iotdata', host });
  await ours.prepare(creds, Date.now());
  // Floor: the bare template, hash and HMAC (no clock or readiness check), with the key as a
  // KeyObject. Swapping SigV4Signer's Buffer key for a KeyObject measured no difference.
  const keyObject = createSecretKey(
    Buffer.from(await getSigningKey(Sha256, creds, '20260101', 'eu-west-1', 'iotdata')),
  );

  const bench = new Bench({ time, warmup: true });
  bench
    .add('smithy SignatureV4.sign GET', async () => {
      await smithy.sign(
        new HttpRequest({
          method: 'GET',
          protocol: 'https:',
          hostname: host,
          path,
          query: { name: 'config' },
          headers: { host },
        }),
      );
    })
    .add('SigV4Signer.sign GET', () => {
      const now = Date.now();
      if (!ours.isReady(creds, now)) throw new Error('not ready');
      ours.sign('GET', path, 'name=config', EMPTY_PAYLOAD_HASH);
    })
    .add('smithy SignatureV4.sign POST 120 B', async () => {
      await smithy.sign(
        new HttpRequest({
          method: 'POST',
          protocol: 'https:',
          hostname: host,
          path,
          query: { name: 'config' },
          headers: { host, 'content-type': 'application/octet-stream' },
          body,
        }),
      );
    })
    .add('SigV4Signer.sign POST 120 B (incl. body hash)', () => {
      const now = Date.now();
      if (!ours.isReady(creds, now)) throw new Error('not ready');
      ours.sign('POST', path, 'name=config', payloadHash(body));
    })
    .add('floor: bare template + SHA-256 + HMAC, KeyObject key', () => {
      const cr = `GET\n${path}\nname=config\nhost:${host}\nx-amz-content-sha256:${EMPTY_PAYLOAD_HASH}\nx-amz-date:20260101T000000Z\n\nhost;x-amz-content-sha256;x-amz-date\n${EMPTY_PAYLOAD_HASH}`;
      const sts = `AWS4-HMAC-SHA256\n20260101T000000Z\n20260101/eu-west-1/iotdata/aws4_request\n${createHash('sha256').update(cr).digest('hex')}`;
      createHmac('sha256', keyObject).update(sts).digest('hex');
    });
  await bench.run();
  const rows = bench.tasks.map((t) => {
    const r = t.result as { throughput?: { mean: number }; latency?: { mean: number } } | undefined;
    const hz = r?.throughput?.mean ?? 0;
    return { task: t.name, 'ops/s': Math.round(hz), 'us/op': Number((1e6 / (hz || 1)).toFixed(2)) };
  });
  const byName = new Map(rows.map((r) => [r.task, r['ops/s'] as number]));
  const ratio = (a: string, b: string): number => Number(((byName.get(a) ?? 0) / (byName.get(b) || 1)).toFixed(2));
  console.table(rows);
  console.log(
    JSON.stringify({
      bench: 'sign',
      rows,
      ratios: {
        get: ratio('SigV4Signer.sign GET', 'smithy SignatureV4.sign GET'),
        post: ratio('SigV4Signer.sign POST 120 B (incl. body hash)', 'smithy SignatureV4.sign POST 120 B'),
      },
    }),
  );
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runSignBench();
}
