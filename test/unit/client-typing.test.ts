import {
  type CallArgs,
  createIotoBffClient,
  type OperationKey,
  type PagedOperationKey,
  type PageItem,
  type RequestBody,
  type ResponseData,
  type SuccessBody,
} from '../../client';

/**
 * The client's types, checked by `tsc --noEmit` (this file is in the root tsconfig): every
 * `@ts-expect-error` line must fail to compile, every other line must compile. The functions
 * are never run; the one test only records what they send, so a type that compiles also
 * builds the request the gateway expects.
 */
type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <_T extends true>() => undefined;

const sent: { url: string; body: unknown }[] = [];
const client = createIotoBffClient({
  baseUrl: 'http://gateway.test/prod/',
  token: 'token',
  fetch: async (input, init) => {
    sent.push({ url: String(input), body: JSON.parse(String(init?.body)) });
    return new Response('{"data":[],"nextPageToken":null,"prevPageToken":null}', {
      headers: { 'content-type': 'application/json' },
    });
  },
});

async function wellTypedCalls() {
  const page = await client.call('device/find', { accountId: 'ACCOUNT', limit: 5 });
  expectType<Equal<typeof page.nextPageToken, string | null>>();
  expectType<Equal<typeof page.prevPageToken, string | null>>();
  expectType<Equal<typeof page, SuccessBody<'device/find'>>>();

  // Free attributes on Generic items, typed as JSON values.
  await client.call('generic/create', { _type: 'Note', text: 'hi', tags: ['a'], n: 1 });
  // A body whose fields are all optional may be left out (the gateway sets a single account).
  await client.call('user/getRoles');
  await client.call('device/find');
  await client.call('device/get', { id: 'SIMA000001' }, { requestId: 'req-12345678' });

  for await (const device of client.paginate('device/find', { accountId: 'ACCOUNT', limit: 2 })) {
    expectType<Equal<typeof device, PageItem<'device/find'>>>();
    // Items are the document's record schema, open to fields Ioto adds.
    expectType<Equal<typeof device.id, string | undefined>>();
    expectType<Equal<(typeof device)['anything'], unknown>>();
  }
  expectType<Equal<'device/find' extends PagedOperationKey ? true : false, true>>();
  expectType<Equal<'device/get' extends PagedOperationKey ? true : false, false>>();
  expectType<Equal<'user/login' extends OperationKey ? true : false, false>>();
  expectType<Equal<'store/set' extends OperationKey ? true : false, true>>();
  expectType<Equal<ResponseData<'device/getSignedUrl'>, string>>();
  expectType<Equal<CallArgs<'device/get'>[0], RequestBody<'device/get'>>>();
}

async function illTypedCalls() {
  // @ts-expect-error limit is a number
  await client.call('device/find', { accountId: 'ACCOUNT', limit: '5' });
  // @ts-expect-error id is a string
  await client.call('device/get', { id: 42 });
  // @ts-expect-error an unknown field (bodies are strict)
  await client.call('device/get', { id: 'SIMA000001', color: 'red' });
  // @ts-expect-error id is required
  await client.call('device/get', {});
  // @ts-expect-error a body with a required field cannot be left out
  await client.call('device/get');
  // @ts-expect-error no such operation
  await client.call('device/remove', {});
  // @ts-expect-error user/login is not offered
  await client.call('user/login', {});
  // @ts-expect-error a Generic item needs its _type
  await client.call('generic/create', { text: 'hi' });
  // @ts-expect-error a declared field keeps its type next to free attributes
  await client.call('generic/create', { _type: 'Note', deviceId: 7 });
  // @ts-expect-error a free attribute holds JSON, not a function
  await client.call('generic/create', { _type: 'Note', run: () => 1 });
  // @ts-expect-error a record answer carries no page token
  (await client.call('device/get', { id: 'SIMA000001' })).nextPageToken;
  // @ts-expect-error only paged operations can be paginated
  client.paginate('device/get', { id: 'SIMA000001' });
}

describe('the typed client', () => {
  it('sends a typed call as POST /v1/{controller}/{operation} with its body', async () => {
    await client.call('device/find', { accountId: 'ACCOUNT', limit: 5 });
    expect(sent).toEqual([
      {
        url: 'http://gateway.test/prod/v1/device/find',
        body: { accountId: 'ACCOUNT', limit: 5 },
      },
    ]);
    // Compile-time checks only: referenced so they are type-checked, never run.
    expect([wellTypedCalls, illTypedCalls].map((f) => typeof f)).toEqual(['function', 'function']);
  });
});
