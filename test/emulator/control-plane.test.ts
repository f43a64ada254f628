import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ListThingGroupsCommand,
  ListThingGroupsForThingCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
  UpdateThingCommand,
  paginateListThings,
  paginateListThingsInThingGroup,
} from '@aws-sdk/client-iot';
import { UpdateThingShadowCommand } from '@aws-sdk/client-iot-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CREDENTIALS, bytes, sdkError, withEmulator } from './with-emulator.js';

const ctx = withEmulator({ quotas: 'off', defaultThingsPageSize: 2 });
let iot: IoTClient;

beforeAll(() => {
  iot = new IoTClient({
    endpoint: ctx.emulator.url,
    region: 'us-east-1',
    credentials: { ...CREDENTIALS },
    maxAttempts: 1,
  });
});
afterAll(() => iot.destroy());

async function collect<T>(pages: AsyncIterable<T>, pick: (p: T) => string[]): Promise<string[]> {
  const out: string[] = [];
  for await (const p of pages) out.push(...pick(p));
  return out;
}

describe('things in the registry', () => {
  it('creates a thing at version 1 with an ARN and a UUID, and describes it with its attributes', async () => {
    const created = await iot.send(
      new CreateThingCommand({ thingName: 'reg-a', attributePayload: { attributes: { site: 'berlin', model: 'x' } } }),
    );
    expect(created.thingArn).toBe('arn:aws:iot:us-east-1:123456789012:thing/reg-a');
    expect(created.thingId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const d = await iot.send(new DescribeThingCommand({ thingName: 'reg-a' }));
    expect(d).toMatchObject({
      thingName: 'reg-a',
      defaultClientId: 'reg-a',
      thingId: created.thingId,
      attributes: { site: 'berlin', model: 'x' },
      version: 1,
    });
    expect(d.thingTypeName).toBeUndefined();
  });

  it('answers the same ids when the same thing is created again, and a 409 with AWS text when it differs', async () => {
    const first = await iot.send(
      new CreateThingCommand({ thingName: 'reg-b', attributePayload: { attributes: { site: 'ohio' } } }),
    );
    const again = await iot.send(
      new CreateThingCommand({ thingName: 'reg-b', attributePayload: { attributes: { site: 'ohio' } } }),
    );
    expect(again.thingId).toBe(first.thingId);
    const err = await sdkError(
      iot.send(new CreateThingCommand({ thingName: 'reg-b', attributePayload: { attributes: { site: 'paris' } } })),
    );
    expect(err).toMatchObject({
      name: 'ResourceAlreadyExistsException',
      status: 409,
      message: 'Thing reg-b already exists in account with different attributes',
    });
  });

  it('merges attributes with merge=true (an empty value removes one) and replaces them otherwise, bumping the version', async () => {
    await iot.send(
      new CreateThingCommand({ thingName: 'reg-c', attributePayload: { attributes: { a: '1', b: '2' } } }),
    );
    await iot.send(
      new UpdateThingCommand({ thingName: 'reg-c', attributePayload: { attributes: { b: '', c: '3' }, merge: true } }),
    );
    let d = await iot.send(new DescribeThingCommand({ thingName: 'reg-c' }));
    expect(d.attributes).toEqual({ a: '1', c: '3' });
    expect(d.version).toBe(2);
    await iot.send(new UpdateThingCommand({ thingName: 'reg-c', attributePayload: { attributes: { z: '9' } } }));
    d = await iot.send(new DescribeThingCommand({ thingName: 'reg-c' }));
    expect(d.attributes).toEqual({ z: '9' });
    expect(d.version).toBe(3);
  });

  it('keeps the attributes when an update carries no attribute map, and drops the type with removeThingType', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'reg-g', attributePayload: { attributes: { a: '1' } } }));
    await iot.send(new UpdateThingCommand({ thingName: 'reg-g', thingTypeName: 'sensor' }));
    await iot.send(new UpdateThingCommand({ thingName: 'reg-g', attributePayload: {} }));
    let d = await iot.send(new DescribeThingCommand({ thingName: 'reg-g' }));
    expect(d).toMatchObject({ attributes: { a: '1' }, thingTypeName: 'sensor', version: 3 });
    await iot.send(new UpdateThingCommand({ thingName: 'reg-g', removeThingType: true }));
    d = await iot.send(new DescribeThingCommand({ thingName: 'reg-g' }));
    expect(d.thingTypeName).toBeUndefined();
    expect(d.attributes).toEqual({ a: '1' });
  });

  it('refuses an update with a stale expectedVersion and changes nothing', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'reg-d', attributePayload: { attributes: { a: '1' } } }));
    const err = await sdkError(
      iot.send(
        new UpdateThingCommand({
          thingName: 'reg-d',
          expectedVersion: 7,
          attributePayload: { attributes: { a: '2' } },
        }),
      ),
    );
    expect(err).toMatchObject({ name: 'VersionConflictException', status: 409 });
    expect((await iot.send(new DescribeThingCommand({ thingName: 'reg-d' }))).attributes).toEqual({ a: '1' });
  });

  it('answers ResourceNotFoundException for an unknown thing and InvalidRequestException for a bad name', async () => {
    expect(await sdkError(iot.send(new DescribeThingCommand({ thingName: 'nobody' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    const bad = await sdkError(iot.send(new CreateThingCommand({ thingName: 'has space' })));
    expect(bad.name).toBe('InvalidRequestException');
    expect(bad.message).toContain("at 'thingName'");
  });

  it('deletes a thing idempotently and keeps its shadow in the data plane', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'reg-e' }));
    await ctx.client.send(
      new UpdateThingShadowCommand({ thingName: 'reg-e', payload: bytes({ state: { reported: { x: 1 } } }) }),
    );
    await iot.send(new DeleteThingCommand({ thingName: 'reg-e' }));
    await iot.send(new DeleteThingCommand({ thingName: 'reg-e' }));
    expect((await sdkError(iot.send(new DescribeThingCommand({ thingName: 'reg-e' })))).name).toBe(
      'ResourceNotFoundException',
    );
    expect(ctx.emulator.store.get('reg-e')?.state.reported).toEqual({ x: 1 });
  });

  it('refuses a fourth attribute on a thing without a type', async () => {
    const err = await sdkError(
      iot.send(
        new CreateThingCommand({
          thingName: 'reg-f',
          attributePayload: { attributes: { a: '1', b: '2', c: '3', d: '4' } },
        }),
      ),
    );
    expect(err).toMatchObject({ name: 'InvalidRequestException', status: 400 });
  });
});

describe('ListThings filters and pages', () => {
  beforeAll(async () => {
    for (const [n, site, type] of [
      ['lt-1', 'rome', undefined],
      ['lt-2', 'romania', undefined],
      ['lt-3', 'oslo', undefined],
      ['lt-4', 'rome', 'sensor'],
      ['lt-5', 'rome', undefined],
    ] as const) {
      await iot.send(
        new CreateThingCommand({ thingName: n, thingTypeName: type, attributePayload: { attributes: { city: site } } }),
      );
    }
  });

  it('filters by attribute value, by prefix, and by thing type, across pages of maxResults', async () => {
    const rome = await collect(
      paginateListThings({ client: iot, pageSize: 1 }, { attributeName: 'city', attributeValue: 'rome' }),
      (p) => p.things!.map((t) => t.thingName!),
    );
    expect(rome).toEqual(['lt-1', 'lt-4', 'lt-5']);
    const rom = await collect(
      paginateListThings(
        { client: iot },
        { attributeName: 'city', attributeValue: 'rom', usePrefixAttributeValue: true },
      ),
      (p) => p.things!.map((t) => t.thingName!),
    );
    expect(rom).toEqual(['lt-1', 'lt-2', 'lt-4', 'lt-5']);
    const typed = await iot.send(new ListThingsCommand({ thingTypeName: 'sensor' }));
    expect(typed.things).toEqual([
      {
        thingName: 'lt-4',
        thingTypeName: 'sensor',
        thingArn: 'arn:aws:iot:us-east-1:123456789012:thing/lt-4',
        attributes: { city: 'rome' },
        version: 1,
      },
    ]);
  });

  it('refuses a thing-type filter combined with an attribute filter', async () => {
    const err = await sdkError(iot.send(new ListThingsCommand({ thingTypeName: 'sensor', attributeName: 'city' })));
    expect(err).toMatchObject({
      name: 'InvalidRequestException',
      message: 'Listing things by the combination of attribute and thing type is not supported',
    });
  });

  it('lists every thing once without filters: things with shadows and registered things without', async () => {
    const all = await collect(paginateListThings({ client: iot }, {}), (p) => p.things!.map((t) => t.thingName!));
    expect(new Set(all).size).toBe(all.length);
    for (const n of ['lt-1', 'lt-5', 'reg-a', 'reg-e']) expect(all).toContain(n);
  });

  it('refuses a nextToken from another filter', async () => {
    const first = await iot.send(new ListThingsCommand({ attributeName: 'city', maxResults: 1 }));
    expect(first.nextToken).toBeDefined();
    const err = await sdkError(
      iot.send(new ListThingsCommand({ thingTypeName: 'sensor', nextToken: first.nextToken })),
    );
    expect(err).toMatchObject({ name: 'InvalidRequestException', message: 'Invalid nextToken' });
  });
});

describe('thing groups', () => {
  beforeAll(async () => {
    await iot.send(
      new CreateThingGroupCommand({
        thingGroupName: 'g-root',
        thingGroupProperties: { thingGroupDescription: 'all of them' },
      }),
    );
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'g-eu', parentGroupName: 'g-root' }));
    await iot.send(
      new CreateThingGroupCommand({
        thingGroupName: 'g-berlin',
        parentGroupName: 'g-eu',
        thingGroupProperties: { attributePayload: { attributes: { site: 'berlin' } } },
      }),
    );
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'g-us', parentGroupName: 'g-root' }));
    for (const n of ['gt-1', 'gt-2', 'gt-3', 'gt-4']) await iot.send(new CreateThingCommand({ thingName: n }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-berlin', thingName: 'gt-1' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-berlin', thingName: 'gt-2' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-eu', thingName: 'gt-2' }));
    await iot.send(
      new AddThingToThingGroupCommand({
        thingGroupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/g-us',
        thingArn: 'arn:aws:iot:us-east-1:123456789012:thing/gt-3',
      }),
    );
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-root', thingName: 'gt-4' }));
  });

  it('describes a nested group with its ancestors from the root down, its parent and its properties', async () => {
    const d = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'g-berlin' }));
    expect(d.thingGroupArn).toBe('arn:aws:iot:us-east-1:123456789012:thinggroup/g-berlin');
    expect(d.version).toBe(1);
    expect(d.thingGroupProperties).toEqual({ attributePayload: { attributes: { site: 'berlin' } } });
    expect(d.thingGroupMetadata?.parentGroupName).toBe('g-eu');
    expect(d.thingGroupMetadata?.rootToParentThingGroups?.map((g) => g.groupName)).toEqual(['g-root', 'g-eu']);
    expect(d.thingGroupMetadata?.creationDate).toBeInstanceOf(Date);
  });

  it('lists direct members, or with recursive every member of the group and its descendants once', async () => {
    const direct = await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'g-eu' }));
    expect(direct.things).toEqual(['gt-2']);
    const all = await collect(
      paginateListThingsInThingGroup({ client: iot, pageSize: 1 }, { thingGroupName: 'g-root', recursive: true }),
      (p) => p.things!,
    );
    expect(all).toEqual(['gt-1', 'gt-2', 'gt-3', 'gt-4']);
  });

  it('lists the groups of a thing and all groups, children of a parent, and root groups', async () => {
    const forThing = await iot.send(new ListThingGroupsForThingCommand({ thingName: 'gt-2' }));
    expect(forThing.thingGroups?.map((g) => g.groupName)).toEqual(['g-berlin', 'g-eu']);
    const children = await iot.send(new ListThingGroupsCommand({ parentGroup: 'g-root' }));
    expect(children.thingGroups?.map((g) => g.groupName)).toEqual(['g-eu', 'g-us']);
    const descendants = await iot.send(
      new ListThingGroupsCommand({ parentGroup: 'g-root', recursive: true, maxResults: 250 }),
    );
    expect(descendants.thingGroups?.map((g) => g.groupName)).toEqual(['g-berlin', 'g-eu', 'g-us']);
    const prefixed = await iot.send(new ListThingGroupsCommand({ namePrefixFilter: 'g-b' }));
    expect(prefixed.thingGroups).toEqual([
      { groupName: 'g-berlin', groupArn: 'arn:aws:iot:us-east-1:123456789012:thinggroup/g-berlin' },
    ]);
  });

  it('removes a thing from a group', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'gt-5' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-us', thingName: 'gt-5' }));
    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'g-us', thingName: 'gt-5' }));
    expect((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'g-us' }))).things).toEqual(['gt-3']);
  });

  it('refuses to delete a group with children, with AWS text, and deletes a leaf group dropping its memberships', async () => {
    const err = await sdkError(iot.send(new DeleteThingGroupCommand({ thingGroupName: 'g-eu' })));
    expect(err).toMatchObject({
      name: 'InvalidRequestException',
      status: 400,
      message: 'Cannot delete thing group : g-eu when there are still child groups attached to it',
    });
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'g-leaf', parentGroupName: 'g-us' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-leaf', thingName: 'gt-3' }));
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'g-leaf' }));
    expect(
      (await iot.send(new ListThingGroupsForThingCommand({ thingName: 'gt-3' }))).thingGroups?.map((g) => g.groupName),
    ).toEqual(['g-us']);
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'g-leaf' }));
  });

  it('answers 404 for a membership of an unknown thing or group and 409 for a group re-created differently', async () => {
    expect(
      (await sdkError(iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-none', thingName: 'gt-1' })))).name,
    ).toBe('ResourceNotFoundException');
    expect(
      (await sdkError(iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'g-us', thingName: 'nobody' })))).name,
    ).toBe('ResourceNotFoundException');
    expect((await sdkError(iot.send(new AddThingToThingGroupCommand({ thingName: 'gt-1' })))).name).toBe(
      'InvalidRequestException',
    );
    const err = await sdkError(
      iot.send(
        new CreateThingGroupCommand({
          thingGroupName: 'g-root',
          thingGroupProperties: { thingGroupDescription: 'other' },
        }),
      ),
    );
    expect(err).toMatchObject({
      name: 'ResourceAlreadyExistsException',
      message: 'Thing Group g-root already exists in current account with different properties',
    });
  });

  it('refuses a parent that does not exist', async () => {
    const err = await sdkError(
      iot.send(new CreateThingGroupCommand({ thingGroupName: 'g-orphan', parentGroupName: 'g-missing' })),
    );
    expect(err.name).toBe('InvalidRequestException');
    expect(err.message).toContain('g-missing');
  });
});
