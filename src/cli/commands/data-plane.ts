import type { Command } from 'commander';
import type { CommandContext } from '../context.js';
import { EXIT, type Runner } from '../context.js';
import { describeShadow, formatEpoch, formatPayload, formatTable } from '../output.js';

/** Options every data-plane command shares. */
interface CommonOptions {
  endpoint?: string;
  region?: string;
  signingName?: string;
  timeoutMs?: string;
  json?: boolean;
}

interface ShadowOptions extends CommonOptions {
  thing: string;
  shadow?: string;
}

type Library = typeof import('../../client/index.js') & typeof import('../../input.js');
type Client = InstanceType<Library['IotDataClient']>;

function common(cmd: Command): Command {
  return cmd
    .option('--endpoint <url>', 'data endpoint (default: $SHADOWFLEET_ENDPOINT)')
    .option('--region <region>', 'AWS region (default: $AWS_REGION, else us-east-1)')
    .option('--signing-name <name>', 'SigV4 signing name: iotdata or iotdevicegateway', 'iotdata')
    .option('--timeout-ms <ms>', 'request timeout in ms')
    .option('--json', 'print one JSON document instead of human output');
}

function shadowTarget(cmd: Command): Command {
  return cmd
    .requiredOption('--thing <name>', 'thing name')
    .option('--shadow <name>', 'named shadow (omit for the classic shadow)');
}

function int(lib: Library, name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || n < min || n > max)
    throw new lib.InvalidArgumentError(`${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(v)}`);
  return n;
}

async function openClient(opts: CommonOptions): Promise<{ lib: Library; client: Client }> {
  // The public client entry (shadowfleet/client), not the root: one data-plane call should not
  // pay for loading the engine, the sinks and the jobs. Measured on the build, CPU time of the
  // import alone (median of 15, 2 busy cores): the client entry 0.46 s, the root 0.89 s.
  const [client, input] = await Promise.all([import('../../client/index.js'), import('../../input.js')]);
  const lib: Library = { ...client, ...input };
  const signingName = opts.signingName ?? 'iotdata';
  if (signingName !== 'iotdata' && signingName !== 'iotdevicegateway') {
    throw new lib.InvalidArgumentError(
      `--signing-name must be iotdata or iotdevicegateway, got ${JSON.stringify(signingName)}`,
    );
  }
  const o: ConstructorParameters<Library['IotDataClient']>[0] = { signingName, connections: 1 };
  if (opts.endpoint !== undefined) o.endpoint = opts.endpoint;
  if (opts.region !== undefined) o.region = opts.region;
  const timeout = int(lib, '--timeout-ms', opts.timeoutMs, 1, 3_600_000);
  if (timeout !== undefined) o.requestTimeoutMs = timeout;
  return { lib, client: new lib.IotDataClient(o) };
}

/** The largest `--payload @file` read: the 128 KB of a Publish (a shadow update is checked against 8 KB later). */
const PAYLOAD_FILE_LIMIT_BYTES = 128 * 1024;

/** Reads `--payload`: inline text, or `@file` for a file's bytes. */
async function readPayload(lib: Library, value: string | undefined, required: boolean): Promise<Buffer | undefined> {
  if (value === undefined) {
    if (required) throw new lib.InvalidArgumentError('--payload is required (JSON text or @file)');
    return undefined;
  }
  if (value.startsWith('@')) {
    // Read at most the limit plus one byte: `@/dev/zero` or a huge file is refused at once.
    return lib.readBounded(value.slice(1), PAYLOAD_FILE_LIMIT_BYTES, '--payload');
  }
  return Buffer.from(value, 'utf8');
}

function ref(o: ShadowOptions): { thingName: string; shadowName?: string } {
  return o.shadow === undefined ? { thingName: o.thing } : { thingName: o.thing, shadowName: o.shadow };
}

/** Documents as the service sent them: numbers a double cannot hold keep their text. */
function printDocument(
  lib: Library,
  ctx: CommandContext,
  json: boolean | undefined,
  doc: unknown,
  human: (pretty: string) => string,
): void {
  ctx.out(json ? lib.stringifyJson(doc) : human(lib.stringifyJson(doc, 2)));
}

async function withClient(opts: CommonOptions, fn: (lib: Library, client: Client) => Promise<number>): Promise<number> {
  const { lib, client } = await openClient(opts);
  try {
    return await fn(lib, client);
  } finally {
    await client.close();
  }
}

function print(ctx: CommandContext, json: boolean | undefined, value: unknown, human: () => string): void {
  ctx.out(json ? JSON.stringify(value) : human());
}

/**
 * `shadowfleet get | update | delete | list-named | publish | get-retained | list-retained`:
 * one data-plane call each, human output or `--json`.
 */
export function defineDataPlaneCommands(program: Command, run: Runner): void {
  defineShadowCommands(program, run);
  definePublishCommand(program, run);
  defineRetainedMessageCommands(program, run);
}

/** `get`, `update`, `delete` and `list-named`: the shadow document calls. */
function defineShadowCommands(program: Command, run: Runner): void {
  shadowTarget(common(program.command('get').description('GetThingShadow: print a shadow document'))).action(
    run<ShadowOptions>(async (o, ctx) =>
      withClient(o, async (lib, client) => {
        const doc = await client.getThingShadow(ref(o), { signal: ctx.signal });
        printDocument(lib, ctx, o.json, doc, (pretty) => pretty);
        return EXIT.OK;
      }),
    ),
  );

  shadowTarget(common(program.command('update').description('UpdateThingShadow: apply an update document')))
    .option('--payload <json|@file>', 'update document, e.g. {"state":{"desired":{"on":true}}}')
    .action(
      run<ShadowOptions & { payload?: string }>(async (o, ctx) =>
        withClient(o, async (lib, client) => {
          const payload = (await readPayload(lib, o.payload, true))!;
          const raw = await client.updateThingShadowRaw({ ...ref(o), payload }, { signal: ctx.signal });
          const doc = lib.parseJson(Buffer.from(raw).toString('utf8')) as { version?: number };
          printDocument(
            lib,
            ctx,
            o.json,
            doc,
            (pretty) => `updated ${describeShadow(o.thing, o.shadow)}: version ${doc.version}\n${pretty}`,
          );
          return EXIT.OK;
        }),
      ),
    );

  shadowTarget(common(program.command('delete').description('DeleteThingShadow: delete a shadow'))).action(
    run<ShadowOptions>(async (o, ctx) =>
      withClient(o, async (_lib, client) => {
        const r = await client.deleteThingShadow(ref(o), { signal: ctx.signal });
        print(
          ctx,
          o.json,
          r,
          () => `deleted ${describeShadow(o.thing, o.shadow)} (version ${r.version}, ${formatEpoch(r.timestamp)})`,
        );
        return EXIT.OK;
      }),
    ),
  );

  common(program.command('list-named').description('ListNamedShadowsForThing: list the named shadows of a thing'))
    .requiredOption('--thing <name>', 'thing name')
    .option('--page-size <n>', 'page size (1-100)')
    .option('--next-token <token>', 'continue from this token')
    .action(
      run<CommonOptions & { thing: string; pageSize?: string; nextToken?: string }>(async (o, ctx) =>
        withClient(o, async (lib, client) => {
          const input: { thingName: string; pageSize?: number; nextToken?: string } = { thingName: o.thing };
          const pageSize = int(lib, '--page-size', o.pageSize, 1, 100);
          if (pageSize !== undefined) input.pageSize = pageSize;
          if (o.nextToken !== undefined) input.nextToken = o.nextToken;
          const page = await client.listNamedShadowsForThing(input, { signal: ctx.signal });
          print(ctx, o.json, page, () => {
            const lines =
              page.results.length === 0 ? [`no named shadows for thing "${o.thing}"`] : page.results.slice();
            if (page.nextToken !== undefined) lines.push(`next token: ${page.nextToken}`);
            return lines.join('\n');
          });
          return EXIT.OK;
        }),
      ),
    );
}

interface PublishOptions extends CommonOptions {
  topic: string;
  payload?: string;
  qos: string;
  retain?: boolean;
  contentType?: string;
  responseTopic?: string;
  messageExpiry?: string;
  userProperty?: string[];
}

/** `publish`: a message to a topic, with the MQTT5 properties the data plane takes. */
function definePublishCommand(program: Command, run: Runner): void {
  common(program.command('publish').description('Publish: send a message to a topic'))
    .requiredOption('--topic <topic>', 'topic (a / inside is sent as %2F)')
    .option('--payload <text|@file>', 'message payload (omit for an empty message)')
    .option('--qos <0|1>', 'quality of service', '0')
    .option('--retain', 'retain the message (an empty payload clears the retained one)')
    .option('--content-type <type>', 'MQTT5 content type')
    .option('--response-topic <topic>', 'MQTT5 response topic')
    .option('--message-expiry <seconds>', 'MQTT5 message expiry in seconds')
    .option('--user-property <name=value...>', 'MQTT5 user property (repeatable)')
    .action(
      run<PublishOptions>(async (o, ctx) =>
        withClient(o, async (lib, client) => {
          if (o.qos !== '0' && o.qos !== '1')
            throw new lib.InvalidArgumentError(`--qos must be 0 or 1, got ${JSON.stringify(o.qos)}`);
          const payload = await readPayload(lib, o.payload, false);
          const input = publishInput(lib, o, payload);
          await client.publish(input, { signal: ctx.signal });
          const result = { topic: o.topic, bytes: payload?.byteLength ?? 0, qos: input.qos, retain: Boolean(o.retain) };
          print(
            ctx,
            o.json,
            result,
            () =>
              `published ${result.bytes} bytes to "${o.topic}" (qos ${result.qos}${result.retain ? ', retained' : ''})`,
          );
          return EXIT.OK;
        }),
      ),
    );
}

/** The Publish request of `--qos` (checked before), `--payload` (read before) and the MQTT5 options. */
function publishInput(lib: Library, o: PublishOptions, payload: Buffer | undefined): Parameters<Client['publish']>[0] {
  const input: Parameters<Client['publish']>[0] = { topic: o.topic, qos: o.qos === '1' ? 1 : 0 };
  if (payload !== undefined) input.payload = payload;
  if (o.retain) input.retain = true;
  if (o.contentType !== undefined) input.contentType = o.contentType;
  if (o.responseTopic !== undefined) input.responseTopic = o.responseTopic;
  const expiry = int(lib, '--message-expiry', o.messageExpiry, 0, Number.MAX_SAFE_INTEGER);
  if (expiry !== undefined) input.messageExpiry = expiry;
  if (o.userProperty !== undefined) {
    input.userProperties = o.userProperty.map((p) => {
      const eq = p.indexOf('=');
      if (eq <= 0) throw new lib.InvalidArgumentError(`--user-property must be name=value, got ${JSON.stringify(p)}`);
      return { [p.slice(0, eq)]: p.slice(eq + 1) };
    });
  }
  return input;
}

/** `get-retained` and `list-retained`: the retained messages of topics. */
function defineRetainedMessageCommands(program: Command, run: Runner): void {
  common(program.command('get-retained').description('GetRetainedMessage: print the retained message of a topic'))
    .requiredOption('--topic <topic>', 'topic')
    .action(
      run<CommonOptions & { topic: string }>(async (o, ctx) =>
        withClient(o, async (_lib, client) => {
          const m = await client.getRetainedMessage({ topic: o.topic }, { signal: ctx.signal });
          const json = { ...m, payload: Buffer.from(m.payload).toString('base64') };
          print(ctx, o.json, json, () =>
            [
              `topic:          ${m.topic}`,
              `qos:            ${m.qos}`,
              `last modified:  ${formatEpoch(m.lastModifiedTime)}`,
              ...(m.userProperties ? [`user properties: ${JSON.stringify(m.userProperties)}`] : []),
              `payload:        ${formatPayload(m.payload)}`,
            ].join('\n'),
          );
          return EXIT.OK;
        }),
      ),
    );

  common(program.command('list-retained').description('ListRetainedMessages: list retained topics'))
    .option('--max-results <n>', 'page size (1-200)')
    .option('--next-token <token>', 'continue from this token')
    .action(
      run<CommonOptions & { maxResults?: string; nextToken?: string }>(async (o, ctx) =>
        withClient(o, async (lib, client) => {
          const input: { maxResults?: number; nextToken?: string } = {};
          const max = int(lib, '--max-results', o.maxResults, 1, 200);
          if (max !== undefined) input.maxResults = max;
          if (o.nextToken !== undefined) input.nextToken = o.nextToken;
          const page = await client.listRetainedMessages(input, { signal: ctx.signal });
          print(ctx, o.json, page, () => {
            if (page.retainedTopics.length === 0) return 'no retained messages';
            const table = formatTable(
              page.retainedTopics.map((t) => ({
                topic: t.topic,
                qos: t.qos,
                bytes: t.payloadSize,
                'last modified': formatEpoch(t.lastModifiedTime),
              })),
              ['topic', 'qos', 'bytes', 'last modified'],
            );
            return page.nextToken !== undefined ? `${table}\nnext token: ${page.nextToken}` : table;
          });
          return EXIT.OK;
        }),
      ),
    );
}
