/**
 * IotDataClient as a library: every data-plane operation, typed errors and paginators.
 *
 *   npx tsx examples/client-library/main.ts                 (starts an emulator on a free port)
 *   SHADOWFLEET_ENDPOINT=https://xxxx-ats.iot.eu-west-1.amazonaws.com AWS_REGION=eu-west-1 \
 *     npx tsx examples/client-library/main.ts                (your account: the standard AWS credential chain)
 */
import { ConflictError, IotDataClient, NotFoundError, isShadowError } from 'shadowfleet';
import { startEmulator } from 'shadowfleet/emulator';

const emulator = process.env.SHADOWFLEET_ENDPOINT ? undefined : await startEmulator({ port: 0, quotas: 'aws' });
const client = new IotDataClient({
  endpoint: process.env.SHADOWFLEET_ENDPOINT ?? emulator!.url,
  connections: 16,
  retry: { maxAttempts: 4 }, // 429, 5xx and resets are retried with jittered backoff
});
const thingName = 'shadowfleet-example-pump-7';

try {
  // Create or change desired state; the accepted document echoes what was sent.
  const accepted = await client.updateThingShadow({
    thingName,
    payload: { state: { desired: { fw: '2.4.1', sampleRateHz: 5 } } },
  });
  console.log('updated classic shadow, version', accepted.version);

  // Named shadows are the same calls with a shadowName.
  await client.updateThingShadow({
    thingName,
    shadowName: 'config',
    payload: { state: { desired: { logLevel: 'debug' } } },
  });

  const doc = await client.getThingShadow({ thingName });
  console.log('desired', doc.state.desired, 'delta', doc.state.delta);

  // Optimistic locking: an update carrying a stale version is a ConflictError (409 ConflictException).
  try {
    await client.updateThingShadow({
      thingName,
      payload: { state: { desired: { fw: '2.5.0' } }, version: doc.version - 1 },
    });
  } catch (err) {
    if (err instanceof ConflictError) console.log('conflict, as expected:', err.message);
    else throw err;
  }

  // Paginators are async iterators.
  for await (const name of client.paginateNamedShadowsForThing({ thingName, pageSize: 10 }))
    console.log('named shadow:', name);

  // MQTT publish over HTTPS, retained.
  await client.publish({
    topic: `shadowfleet-example/${thingName}/hello`,
    payload: JSON.stringify({ hi: true }),
    qos: 1,
    retain: true,
  });
  const retained = await client.getRetainedMessage({ topic: `shadowfleet-example/${thingName}/hello` });
  console.log('retained payload:', new TextDecoder().decode(retained.payload));

  // Errors keep their AWS names and say which operation and thing they are about.
  await client.deleteThingShadow({ thingName, shadowName: 'config' });
  try {
    await client.getThingShadow({ thingName, shadowName: 'config' });
  } catch (err) {
    if (err instanceof NotFoundError) console.log('gone:', err.awsErrorType, err.statusCode);
    else if (isShadowError(err)) console.log('other shadowfleet error:', err.code);
    else throw err;
  }

  // Clean up what this example created.
  await client.deleteThingShadow({ thingName });
} finally {
  await client.close();
  await emulator?.close();
}
