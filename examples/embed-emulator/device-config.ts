/**
 * The code under test: your own module, written against the AWS SDK as usual. It takes the
 * client from the caller, so tests can point it at the emulator.
 */
import {
  GetThingShadowCommand,
  UpdateThingShadowCommand,
  type IoTDataPlaneClient,
} from '@aws-sdk/client-iot-data-plane';

/** Sets the desired sample rate of a device unless it already has it; returns true when it wrote. */
export async function setSampleRate(client: IoTDataPlaneClient, thingName: string, hz: number): Promise<boolean> {
  let current: number | undefined;
  let version: number | undefined;
  try {
    const out = await client.send(new GetThingShadowCommand({ thingName }));
    const doc = JSON.parse(new TextDecoder().decode(out.payload)) as {
      state?: { desired?: { sampleRateHz?: number } };
      version?: number;
    };
    current = doc.state?.desired?.sampleRateHz;
    version = doc.version;
  } catch (err) {
    if ((err as { name?: string }).name !== 'ResourceNotFoundException') throw err;
  }
  if (current === hz) return false;
  const payload = JSON.stringify({
    state: { desired: { sampleRateHz: hz } },
    ...(version === undefined ? {} : { version }),
  });
  await client.send(new UpdateThingShadowCommand({ thingName, payload: new TextEncoder().encode(payload) }));
  return true;
}
