import type { Command } from 'commander';
import { InvalidArgumentError } from '../../input.js';
import { EXIT, type Runner } from '../context.js';
import { collect, serveNumberFlag } from '../flags.js';

interface ServeFlags {
  port: string;
  host: string;
  quotas: string;
  accountRps?: string;
  thingRps?: string;
  thingInFlight?: string;
  faultRate?: string;
  latencyMs?: string;
  seed?: string;
  simulateDevices?: boolean;
  deviceDelayMs?: string;
  deviceSilentShare?: string;
  deviceHealth?: boolean;
  deviceUnhealthyWhen?: string;
  deviceUnhealthyShare?: string;
  seedThings?: string;
  seedRegistry?: boolean;
  fleetIndexing?: boolean;
  sigv4Key?: string[];
  sigv4KeyEnv?: string[];
  sigv4KeyFile?: string[];
  sigv4AllowUnsignedPayload?: boolean;
}

/** `shadowfleet serve`: runs the local IoT Data Plane emulator until SIGINT/SIGTERM. */
export function defineServe(program: Command, run: Runner): void {
  program
    .command('serve')
    .description('Run the local AWS IoT Data Plane emulator')
    .option('--port <n>', 'port to listen on (0 picks a free one)', '8443')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--quotas <mode>', 'quota emulation: aws|off', 'aws')
    .option('--account-rps <n>', 'requests per second per account, every operation (AWS: 4000)')
    .option('--thing-rps <n>', 'shadow requests per second per thing (AWS: 20)')
    .option('--thing-in-flight <n>', 'shadow requests in flight per thing (AWS: 10)')
    .option('--fault-rate <r>', 'share of requests answered 500, 503 or reset (0..1)')
    .option('--latency-ms <n>', 'latency added to every request, ms')
    .option('--seed <n>', 'seed of the fault draws')
    .option('--simulate-devices', 'devices report desired values after a delay')
    .option('--device-delay-ms <n>', 'delay before a simulated device reports, ms')
    .option('--device-silent-share <r>', 'share of simulated devices that never answer (0..1)')
    .option('--device-health', 'simulated devices report a health field ("ok")')
    .option(
      '--device-unhealthy-when <key=value>',
      'devices whose desired key takes this value report health "unhealthy" (implies --device-health)',
    )
    .option(
      '--device-unhealthy-share <r>',
      'share of devices --device-unhealthy-when affects, by thing name (0..1, default 1)',
    )
    .option('--seed-things <n>', 'seed N things with classic and named shadows')
    .option(
      '--seed-registry',
      'also register the seeded things (attributes site, model, region) in groups fleet > region > site',
    )
    .option('--no-fleet-indexing', 'start with fleet indexing off (SearchIndex answers that the index does not exist)')
    .option('--sigv4-key <id:secret>', 'verify SigV4 signatures with this key (repeatable)', collect)
    .option('--sigv4-key-env <id:VAR>', 'same, the secret read from environment variable VAR (repeatable)', collect)
    .option('--sigv4-key-file <id:path>', 'same, the secret read from the first line of a file (repeatable)', collect)
    .option('--sigv4-allow-unsigned-payload', 'accept UNSIGNED-PAYLOAD requests (body not signed; refused by default)')
    .action(
      run<ServeFlags>(async (flags, ctx) => {
        const { startEmulator } = await import('../../emulator/index.js');
        if (flags.quotas !== 'aws' && flags.quotas !== 'off')
          throw new InvalidArgumentError(`--quotas must be 'aws' or 'off', got '${flags.quotas}'`);
        const delayMs = serveNumberFlag('--device-delay-ms', flags.deviceDelayMs);
        const silentShare = serveNumberFlag('--device-silent-share', flags.deviceSilentShare);
        if (flags.deviceUnhealthyWhen !== undefined && !/^[^=.]+(\.[^=.]+)*=/.test(flags.deviceUnhealthyWhen)) {
          throw new InvalidArgumentError(
            `--device-unhealthy-when must be KEY=VALUE, e.g. firmware=1.5.0, got '${flags.deviceUnhealthyWhen}'`,
          );
        }
        const health = {
          reportHealth: flags.deviceHealth === true || flags.deviceUnhealthyWhen !== undefined,
          unhealthyWhen: flags.deviceUnhealthyWhen,
          unhealthyShare: serveNumberFlag('--device-unhealthy-share', flags.deviceUnhealthyShare),
        };
        const keyPairs = (flag: string, what: string, pairs: string[] | undefined) =>
          (pairs ?? []).map((pair) => {
            const i = pair.indexOf(':');
            if (i <= 0 || i === pair.length - 1)
              throw new InvalidArgumentError(`${flag} must be ACCESS_KEY_ID:${what}, got '${pair}'`);
            return [pair.slice(0, i), pair.slice(i + 1)] as const;
          });
        const credentials = [
          ...keyPairs('--sigv4-key', 'SECRET', flags.sigv4Key).map(([accessKeyId, secretAccessKey]) => ({
            accessKeyId,
            secretAccessKey,
          })),
          ...keyPairs('--sigv4-key-env', 'VAR', flags.sigv4KeyEnv).map(([accessKeyId, secretAccessKeyEnv]) => ({
            accessKeyId,
            secretAccessKeyEnv,
          })),
          ...keyPairs('--sigv4-key-file', 'PATH', flags.sigv4KeyFile).map(([accessKeyId, secretAccessKeyFile]) => ({
            accessKeyId,
            secretAccessKeyFile,
          })),
        ];
        const faultRate = serveNumberFlag('--fault-rate', flags.faultRate);
        const latencyMs = serveNumberFlag('--latency-ms', flags.latencyMs);
        const seed = serveNumberFlag('--seed', flags.seed);
        const emulator = await startEmulator({
          port: serveNumberFlag('--port', flags.port),
          host: flags.host,
          quotas: flags.quotas,
          accountRps: serveNumberFlag('--account-rps', flags.accountRps),
          thingRps: serveNumberFlag('--thing-rps', flags.thingRps),
          thingInFlight: serveNumberFlag('--thing-in-flight', flags.thingInFlight),
          faults: { rate: faultRate, latencyMs, seed },
          simulateDevices:
            flags.simulateDevices ||
            delayMs !== undefined ||
            silentShare !== undefined ||
            health.reportHealth ||
            health.unhealthyShare !== undefined
              ? { delayMs, silentShare, ...health }
              : undefined,
          seedThings: serveNumberFlag('--seed-things', flags.seedThings),
          seedRegistry: flags.seedRegistry === true,
          fleetIndexing: flags.fleetIndexing !== false,
          sigv4:
            credentials.length > 0
              ? { credentials, allowUnsignedPayload: flags.sigv4AllowUnsignedPayload === true }
              : undefined,
        }).catch((err: unknown) => {
          // Options are validated in startEmulator; show them as usage errors.
          if (err instanceof InvalidArgumentError)
            throw new InvalidArgumentError(err.message.replace(/^faults\./, '').replace(/^simulateDevices\./, ''));
          throw err;
        });
        ctx.out(`listening on ${emulator.url}`);
        if (!ctx.signal.aborted) {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }));
        }
        await emulator.close();
        return EXIT.OK;
      }),
    );
}
