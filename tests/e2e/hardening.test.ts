import { makeIin } from '@pdp/shared/testing';
import {
  buildClientSchema,
  getIntrospectionQuery,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isListType,
  isNonNullType,
  isObjectType,
  isScalarType,
  type GraphQLArgument,
  type GraphQLInputType,
  type GraphQLSchema,
  type IntrospectionQuery,
} from 'graphql';
import { describe } from 'vitest';
import { graphql } from '../support/client';
import { expect, startSystem, test } from '../support/fixtures';
import { form, SUBMIT } from '../support/intake';
import type { System } from '../support/system';

const IIN = makeIin('1987-10-08', 'M', 4142);
const PHONE = '+7 701 555 12 34';
const EMAIL = 'leak.canary@mail.kz';

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

function expectNoLeak(text: string) {
  for (const secret of [IIN, PHONE, EMAIL, '/work/', 'node_modules', '    at ']) expect(text).not.toContain(secret);
}

async function staff(system: System) {
  return system.tokenFor(['DPO', 'AUDITOR', 'CHAIRMAN', 'OPERATOR'], { sub: 'hardening-tester' });
}

/**
 * Every staff role at once, and a partner (a partner's grant holds PARTNER alone), so the permission
 * table lets each operation reach its argument checks (the public ones: without a token).
 */
async function everyRole(system: System) {
  return [
    await system.tokenFor(['DPO', 'AUDITOR', 'CHAIRMAN', 'OPERATOR', 'HR', 'CONTRACTS', 'OPS'], { sub: 'hardening-tester' }),
    await system.tokenFor(['PARTNER'], { sub: 'hardening-partner' }),
  ] as const;
}

async function appealCount(system: System) {
  const row = await system
    .db('appeals')
    .selectFrom('appeals')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

describe('hardening: nothing of the request in errors, limits that hold', () => {
  test('malformed and over-size bodies get a JSON GraphQL error at the gateway and at every subgraph', async ({ system }) => {
    const urls = [system.url, ...[...system.services.values()].map((s) => s.url)];
    for (const url of urls) {
      const broken = await post(url, `{"query": "{ __typename }", "variables": {"iin": "${IIN}", "email": "${EMAIL}"`);
      expect(broken.status).toBe(400);
      expect(broken.type).toMatch(/json/);
      expect(JSON.parse(broken.text).errors[0].extensions.code).toBe('BAD_REQUEST');
      expectNoLeak(broken.text);

      const huge = await post(url, JSON.stringify({ query: '{ __typename }', variables: { iin: IIN, pad: 'x'.repeat(300_000) } }), { 'accept-language': 'kk' });
      expect(huge.status).toBe(413);
      const body = JSON.parse(huge.text);
      expect(body.errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
      expect(body.errors[0].message).toBe('Сұрау тым үлкен');
      expectNoLeak(huge.text);
    }
  });

  test('wrongly typed variables and literals name the field, never the value, in kk or ru; nothing is stored', async ({ system }) => {
    const asNumber = await post(system.url, JSON.stringify({ query: SUBMIT, variables: { input: form({ iin: Number(IIN), phone: PHONE, email: EMAIL }) } }), {
      'accept-language': 'kk',
    });
    expect(asNumber.status).toBe(400);
    const numberErr = JSON.parse(asNumber.text).errors;
    expect(numberErr).toEqual([expect.objectContaining({ message: 'Мәннің түрі дұрыс емес', extensions: { code: 'BAD_USER_INPUT', field: 'iin' } })]);
    expectNoLeak(asNumber.text);

    const unknownField = await post(
      system.url,
      JSON.stringify({ query: SUBMIT, variables: { input: { ...form({ iin: IIN, phone: PHONE, email: EMAIL }), nickname: 'x' } } }),
    );
    expect(JSON.parse(unknownField.text).errors).toEqual([
      expect.objectContaining({ message: 'Неизвестное поле', extensions: { code: 'BAD_USER_INPUT', field: 'nickname' } }),
    ]);
    expectNoLeak(unknownField.text);

    const literal = `mutation { submitAppeal(input: { kind: APPEAL, iin: ${IIN}, phone: "${PHONE}", email: "${EMAIL}", description: "Коллектор звонит ночью", privacyPolicyAccepted: true }) { appeal { id } } }`;
    const inline = await post(system.url, JSON.stringify({ query: literal }));
    expect(inline.status).toBe(400);
    expect(JSON.parse(inline.text).errors[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'iin' });
    expectNoLeak(inline.text);

    // A field left out is named as through variables ('email', not 'SubmitAppealInput.email'); a bad
    // default value by its variable.
    const noEmail = await post(
      system.url,
      JSON.stringify({
        query: `mutation { submitAppeal(input: { kind: APPEAL, iin: "${IIN}", phone: "${PHONE}", description: "Коллектор звонит ночью", privacyPolicyAccepted: true }) { appeal { id } } }`,
      }),
    );
    expect(JSON.parse(noEmail.text).errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'email' } })]);
    const noEmailVariable = await post(
      system.url,
      JSON.stringify({ query: SUBMIT, variables: { input: { ...form({ iin: IIN, phone: PHONE }), email: undefined } } }),
    );
    expect(JSON.parse(noEmailVariable.text).errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'email' } })]);
    const badDefault = await post(system.url, JSON.stringify({ query: `query($who: String = ${IIN}) { subjectByIin(iin: $who) { id } }` }));
    expect(JSON.parse(badDefault.text).errors).toEqual([expect.objectContaining({ extensions: { code: 'BAD_USER_INPUT', field: 'who' } })]);
    for (const res of [noEmail, noEmailVariable, badDefault]) expectNoLeak(res.text);

    const syntax = await post(system.url, JSON.stringify({ query: `mutation { submitAppeal(input: { iin: "${IIN}" "${EMAIL}" }) }` }));
    expect(syntax.status).toBe(400);
    expect(JSON.parse(syntax.text).errors[0].extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expectNoLeak(syntax.text);

    expect(await appealCount(system)).toBe(0);
  });

  test('every ID and page-size argument of every subgraph is checked before it reaches a database', async ({ system }) => {
    const [token, partner] = await everyRole(system);
    const intro = await graphql<IntrospectionQuery>(system.url, getIntrospectionQuery(), {}, { token });
    const schema = buildClientSchema(intro.data!);
    const cases = argumentCases(schema);
    expect(cases.length).toBeGreaterThanOrEqual(15);
    for (const c of cases) {
      let res = await post(system.url, JSON.stringify({ query: c.query, variables: c.variables }), { authorization: `Bearer ${token}` });
      // An operation of a partner takes a partner's token; one of the public forms, no token.
      const forbidden = () => JSON.parse(res.text).errors?.[0]?.extensions?.code === 'FORBIDDEN';
      if (forbidden()) res = await post(system.url, JSON.stringify({ query: c.query, variables: c.variables }), { authorization: `Bearer ${partner}` });
      if (forbidden()) res = await post(system.url, JSON.stringify({ query: c.query, variables: c.variables }));
      const body = JSON.parse(res.text);
      // Every bad argument is named at once: the one under test among them (a filler of another may be refused too).
      const named =
        (body.errors as Array<{ extensions?: { code?: string; field?: string } }> | undefined)?.find((e) => e.extensions?.field === c.field) ??
        body.errors?.[0];
      expect({ case: c.name, code: named?.extensions?.code, field: named?.extensions?.field }).toEqual({
        case: c.name,
        code: 'BAD_USER_INPUT',
        field: c.field,
      });
      expect(res.text).not.toContain(c.bad);
    }
  });

  test("what is not GraphQL over HTTP is refused in the caller's language, and a persisted-query hash never stands in for the text", async ({ system }) => {
    const url = system.url;
    const kk = { 'accept-language': 'kk' };
    const send = async (method: string, body: string | undefined, headers: Record<string, string>, target = url) => {
      const res = await fetch(target, { method, headers: { ...kk, ...headers }, body });
      return {
        status: res.status,
        allow: res.headers.get('allow'),
        body: (await res.json()) as { errors: Array<{ message: string; extensions: Record<string, unknown> }> },
      };
    };
    const json = { 'content-type': 'application/json' };
    const lookup = 'query($r: String!, $i: String!) { appealStatus(reference: $r, iin: $i) { status } }';
    const hash = (await import('node:crypto')).createHash('sha256').update(lookup).digest('hex');
    const persisted = { extensions: { persistedQuery: { version: 1, sha256Hash: hash } }, variables: { r: 'APL-2026-000001', i: IIN } };
    const cases: Array<[string, Awaited<ReturnType<typeof send>>, number, string, string, string?]> = [
      [
        'a hash with its text',
        await send('POST', JSON.stringify({ query: lookup, ...persisted }), json),
        400,
        'PERSISTED_QUERY_NOT_SUPPORTED',
        'Сақталған сұрауларға қолдау көрсетілмейді: query мәтінін жіберіңіз',
      ],
      [
        'a hash alone',
        await send('POST', JSON.stringify(persisted), json),
        400,
        'PERSISTED_QUERY_NOT_SUPPORTED',
        'Сақталған сұрауларға қолдау көрсетілмейді: query мәтінін жіберіңіз',
      ],
      [
        'text/plain',
        await send('POST', JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'POST сұрауының денесі application/json болуы керек',
      ],
      [
        'a form post',
        await send('POST', 'query=%7B__typename%7D', { 'content-type': 'application/x-www-form-urlencoded' }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        'POST сұрауының денесі application/json болуы керек',
      ],
      [
        'a batch',
        await send('POST', JSON.stringify([{ query: '{ __typename }' }]), json),
        400,
        'BAD_REQUEST',
        'Бір сұрауда бірнеше операция жіберуге болмайды',
      ],
      ['a number for the query', await send('POST', JSON.stringify({ query: 123 }), json), 400, 'BAD_REQUEST', 'Мәннің түрі дұрыс емес', 'query'],
      ['no query', await send('POST', JSON.stringify({ variables: { iin: IIN } }), json), 400, 'BAD_REQUEST', 'Сұрауда query мәтіні жоқ', 'query'],
      // JSON-encoded variables in a body: refused by the gate in the caller's language, valid or not.
      [
        'variables as text',
        await send('POST', JSON.stringify({ query: lookup, variables: JSON.stringify({ r: 'APL-2026-000001', i: IIN }) }), json),
        400,
        'BAD_REQUEST',
        'Мәннің түрі дұрыс емес',
        'variables',
      ],
      [
        'extensions as text',
        await send('POST', JSON.stringify({ query: '{ __typename }', extensions: 'x' }), json),
        400,
        'BAD_REQUEST',
        'Мәннің түрі дұрыс емес',
        'extensions',
      ],
      ['PUT', await send('PUT', JSON.stringify({ query: '{ __typename }' }), json), 405, 'METHOD_NOT_ALLOWED', 'Тек GET және POST әдістері қабылданады'],
      [
        'a simple cross-site GET',
        await send('GET', undefined, {}, `${url}?query=${encodeURIComponent('{ __typename }')}`),
        400,
        'BAD_REQUEST',
        'GET сұрауына apollo-require-preflight немесе x-apollo-operation-name тақырыбы қажет',
      ],
      [
        'a mutation over GET',
        await send(
          'GET',
          undefined,
          { 'apollo-require-preflight': 'true' },
          `${url}?query=${encodeURIComponent(`mutation { submitAppeal(input: {kind: APPEAL, iin: "${IIN}", phone: "${PHONE}", email: "${EMAIL}", description: "Коллектор звонит ночью", privacyPolicyAccepted: true}) { appeal { id } } }`)}`,
        ),
        405,
        'METHOD_NOT_ALLOWED',
        'Өзгерту операциялары тек POST арқылы жіберіледі',
      ],
    ];
    for (const [name, res, status, code, message, field] of cases) {
      expect({ name, status: res.status, errors: res.body.errors }).toEqual({
        name,
        status,
        errors: [{ message, extensions: { code, ...(field ? { field } : {}) } }],
      });
      expectNoLeak(JSON.stringify(res.body));
    }
    expect(cases.find(([name]) => name === 'PUT')![1].allow).toBe('GET, POST');
    // A preflighted GET query is served.
    const get = await send('GET', undefined, { 'apollo-require-preflight': 'true' }, `${url}?query=${encodeURIComponent('{ __typename }')}`);
    expect(get.body).toEqual({ data: { __typename: 'Query' } });
    expect(await appealCount(system)).toBe(0);
  });

  test('a page costs its size whether the size is a literal or a variable; the documented pages fit the default limit', { timeout: 120_000 }, async ({
    system,
  }) => {
    const token = await staff(system);
    const fields =
      'seq type operation outcome source actorId actorRoles creditorId purpose subjectId resource resourceIds fields correlationId occurredAt recordedAt details prevHash hash';
    const literal = (n: number) => `{ auditEntries(first: ${n}) { edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } } }`;
    const variable = `query($n: Int) { auditEntries(first: $n) { edges { cursor node { ${fields} } } pageInfo { hasNextPage endCursor } } }`;
    for (const res of [await graphql(system.url, literal(1000), {}, { token }), await graphql(system.url, variable, { n: 1000 }, { token })]) {
      expect(res.errors).toBeUndefined();
      expect(res.status).toBe(200);
    }
    // Two pages of 1000 by a variable's default: over the default limit (it was priced as two pages of 100).
    const twice = `query($n: Int = 1000) { a: auditEntries(first: $n) { edges { node { ${fields} } } } b: auditEntries(first: $n) { edges { node { ${fields} } } } }`;
    expect((await graphql(system.url, twice, {}, { token })).errors?.[0]?.extensions?.code).toBe('COST_LIMIT');
    const cheap = await startSystem({ gateway: { limits: { maxCost: 2000 } } });
    try {
      // The same account, granted on this platform too.
      const token = await staff(cheap);
      // 30 rows of 19 fields fit 2000; 100 do not — written as a literal, as a variable, or left out (the default page).
      expect((await graphql(cheap.url, literal(20), {}, { token })).errors).toBeUndefined();
      expect((await graphql(cheap.url, variable, { n: 20 }, { token })).errors).toBeUndefined();
      // A variable left out takes its default, as the subgraph will.
      expect((await graphql(cheap.url, variable.replace('$n: Int', '$n: Int = 20'), {}, { token })).errors).toBeUndefined();
      for (const res of [
        await graphql(cheap.url, literal(100), {}, { token }),
        await graphql(cheap.url, variable, { n: 100 }, { token }),
        await graphql(cheap.url, variable, {}, { token }),
        await graphql(cheap.url, variable.replace('$n: Int', '$n: Int = 100'), {}, { token }),
      ]) {
        expect({ status: res.status, code: res.errors?.[0]?.extensions?.code }).toEqual({ status: 400, code: 'COST_LIMIT' });
      }
    } finally {
      await cheap.destroy();
    }
  });

  test('a NUL character or a lone surrogate in any text is BAD_USER_INPUT naming the field, and nothing is stored', async ({ system }) => {
    const token = await staff(system);
    const blocked = await graphql(
      system.url,
      'mutation($id: ID!, $r: String!) { blockSubject(subjectId: $id, reason: $r) { id } }',
      { id: crypto.randomUUID(), r: 'ground\u0000s' },
      { token, headers: { 'accept-language': 'kk' } },
    );
    expect(blocked.errors).toEqual([
      expect.objectContaining({
        message: 'Мәтінде рұқсат етілмеген таңба бар',
        extensions: expect.objectContaining({ code: 'BAD_USER_INPUT', field: 'reason' }),
      }),
    ]);
    const filtered = await graphql(
      system.url,
      'query($f: AppealFilter) { appeals(filter: $f) { edges { node { id } } } }',
      { f: { reference: 'APL\u0000' } },
      { token },
    );
    expect(filtered.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reference' });
    const submitted = await graphql(system.url, SUBMIT, { input: form({ iin: IIN, description: 'Коллектор звонит\u0000 ночью' }) });
    expect(submitted.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
    // Half of a surrogate pair: not text UTF-8 can carry (nor an event's canonical JSON).
    const surrogate = await graphql(system.url, SUBMIT, { input: form({ iin: IIN, description: 'Коллектор звонит ночью \ud800' }) });
    expect(surrogate.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'description' });
    expect(await appealCount(system)).toBe(0);

    // An assignee is a staff id (it travels in an event and stays in the audit), never free text.
    const { id } = (await graphql(system.url, SUBMIT, { input: form({ iin: IIN }) })).data.submitAppeal.appeal;
    const assign = (who: string) =>
      graphql(system.url, 'mutation($id: ID!, $who: String!) { assignAppeal(appealId: $id, assignee: $who) { assignee } }', { id, who }, { token });
    for (const who of ['op\ud800x', `Айгерим ${IIN}`, IIN])
      expect((await assign(who)).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'assignee' });
    expect((await assign('a.serikova@chamber.kz')).data?.assignAppeal.assignee).toBe('a.serikova@chamber.kz');
    const events = await system.db('appeals').selectFrom('outbox').select('payload').execute();
    expect(JSON.stringify(events)).not.toContain(IIN);
  });

  test('a document with two operations and no operationName is a 400, not a 500', async ({ system }) => {
    const two = await post(system.url, JSON.stringify({ query: 'query A { __typename } query B { __typename }' }));
    expect(two.status).toBe(400);
    expect(JSON.parse(two.text).errors[0].extensions.code).toBe('OPERATION_RESOLUTION_FAILURE');
    const unknown = await post(system.url, JSON.stringify({ query: 'query A { __typename }', operationName: 'C' }));
    expect(unknown.status).toBe(400);
    const picked = await post(system.url, JSON.stringify({ query: 'query A { __typename } query B { __typename }', operationName: 'B' }));
    expect(JSON.parse(picked.text)).toEqual({ data: { __typename: 'Query' } });
  });

  test('the public limit counts submissions, not requests; authenticated callers have a limit of their own', { timeout: 120_000 }, async () => {
    const system = await startSystem({ publicRatePerMinute: 10, gateway: { limits: { actorRatePerMinute: 4 } } });
    try {
      const aliased = (n: number) =>
        `mutation($input: SubmitAppealInput!) { ${Array.from({ length: n }, (_, i) => `a${i}: submitAppeal(input: $input) { appeal { id reference } }`).join(' ')} }`;
      const twelve = await graphql(system.url, aliased(12), { input: form() });
      expect(twelve.status).toBe(429);
      expect(twelve.errors?.[0]?.extensions?.code).toBe('RATE_LIMITED');
      expect(await appealCount(system)).toBe(0);

      const six = await graphql(system.url, aliased(6), { input: form() });
      expect(six.errors).toBeUndefined();
      const five = await graphql(system.url, aliased(5), { input: form() });
      expect(five.status).toBe(429);
      expect(await appealCount(system)).toBe(6);

      const dpo = await system.tokenFor(['DPO'], { sub: 'dpo-a' });
      const read = `query($id: ID!) { erasureAct(id: $id) { id } }`;
      for (let i = 0; i < 4; i += 1) expect((await graphql(system.url, read, { id: crypto.randomUUID() }, { token: dpo })).status).toBe(200);
      const over = await graphql(system.url, read, { id: crypto.randomUUID() }, { token: dpo });
      expect(over.status).toBe(429);
      const other = await system.tokenFor(['DPO'], { sub: 'dpo-b' });
      expect((await graphql(system.url, read, { id: crypto.randomUUID() }, { token: other })).status).toBe(200);
    } finally {
      await system.destroy();
    }
  });

  test("aliases, tokens, directives and cost are limited at the gateway with GraphQL Armor's defaults", { timeout: 120_000 }, async ({ system }) => {
    const token = await staff(system);
    const before = await system.platformDb('subjects').selectFrom('outbox').select('id').execute();
    const id = crypto.randomUUID();
    const cases: Array<[string, string]> = [
      ['ALIAS_LIMIT', `{ ${Array.from({ length: 16 }, (_, i) => `s${i}: subject(id: "${id}") { id }`).join(' ')} }`],
      ['TOKEN_LIMIT', `{ subject(id: "${id}") { ${Array.from({ length: 1100 }, () => 'id').join(' ')} } }`],
      ['DIRECTIVE_LIMIT', `{ subject(id: "${id}") { id ${Array.from({ length: 51 }, () => '@include(if: true)').join(' ')} } }`],
    ];
    for (const [code, query] of cases) {
      const res = await graphql(system.url, query, {}, { token });
      expect({ code, got: res.errors?.[0]?.extensions?.code, status: res.status }).toEqual({ code, got: code, status: 400 });
    }
    // Nothing reached a subgraph: not even a denied-access record.
    const after = await system.platformDb('subjects').selectFrom('outbox').select('id').execute();
    expect(after.length).toBe(before.length);

    const cheap = await startSystem({ gateway: { limits: { maxCost: 20 } } });
    try {
      const token = await staff(cheap);
      const costly = await graphql(
        cheap.url,
        `query($id: ID!) { subject(id: $id) { id status appeals { id reference kind status deadline } consents { id } } }`,
        { id },
        { token },
      );
      expect(costly.errors?.[0]?.extensions?.code).toBe('COST_LIMIT');
    } finally {
      await cheap.destroy();
    }
  });

  test('production mode: no introspection, no field suggestions, /metrics only on its own port', { timeout: 120_000 }, async () => {
    const system = await startSystem({ production: true, gateway: { metricsPort: 0 } });
    try {
      const token = await staff(system);
      const intro = await graphql(system.url, getIntrospectionQuery(), {}, { token });
      expect(intro.status).toBe(400);
      expect(intro.errors?.[0]?.extensions?.code).toBe('INTROSPECTION_DISABLED');
      const typo = await graphql(system.url, `{ subjekt(id: "${crypto.randomUUID()}") { id } }`, {}, { token });
      expect(JSON.stringify(typo.errors)).not.toMatch(/Did you mean/);
      const base = new URL(system.url);
      expect((await fetch(new URL('/metrics', base))).status).toBe(404);
      for (const service of system.services.values()) expect((await fetch(new URL('/metrics', service.url))).status).toBe(404);
      const metrics = await fetch(`http://127.0.0.1:${system.gateway!.metricsPort}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('pdp_gateway_auth_failures_total');
    } finally {
      await system.destroy();
    }
  });

  test('development mode keeps introspection and suggestions', async ({ system }) => {
    const intro = await graphql(system.url, `{ __schema { queryType { name } } }`);
    expect(intro.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const typo = await graphql(system.url, `{ consentTemplat(code: "X", locale: RU) { version } }`);
    expect(typo.errors?.[0]?.extensions?.detail).toMatch(/Did you mean/);
    // Request counts, latencies and errors by code, for ops.
    const metrics = await (await fetch(new URL('/metrics', system.url))).text();
    expect(metrics).toMatch(/pdp_gateway_requests_total\{operation_type="query",status="2xx"\} [1-9]/);
    expect(metrics).toMatch(/pdp_gateway_errors_total\{code="GRAPHQL_VALIDATION_FAILED"\} [1-9]/);
    expect(metrics).toContain('pdp_gateway_request_seconds_bucket');
  });
});

interface ArgCase {
  name: string;
  query: string;
  variables: Record<string, unknown>;
  field: string;
  bad: string;
}

/**
 * Walks the composed API schema: for each root field, one request per ID argument (an IIN where a
 * UUID belongs, or letters where a sequence number belongs) and per page-size argument (too big,
 * negative), every other required argument filled with a valid dummy.
 */
function argumentCases(schema: GraphQLSchema): ArgCase[] {
  const cases: ArgCase[] = [];
  for (const [op, root] of [
    ['query', schema.getQueryType()],
    ['mutation', schema.getMutationType()],
  ] as const) {
    if (!root) continue;
    for (const field of Object.values(root.getFields())) {
      const selection = isObjectType(getNamedType(field.type)) ? '{ __typename }' : '';
      const build = (target: GraphQLArgument, bad: unknown) => {
        const variables: Record<string, unknown> = {};
        for (const arg of field.args) {
          if (arg === target) variables[arg.name] = bad;
          else if (isNonNullType(arg.type)) variables[arg.name] = dummy(arg.type);
        }
        const defs = field.args.map((a) => `$${a.name}: ${a.type.toString()}`).join(', ');
        const uses = field.args.map((a) => `${a.name}: $${a.name}`).join(', ');
        return { query: `${op}${defs ? `(${defs})` : ''} { ${field.name}${uses ? `(${uses})` : ''} ${selection} }`, variables };
      };
      for (const arg of field.args) {
        const named = getNamedType(arg.type);
        if (named.name === 'ID') {
          // Neither a UUID nor a sequence number, and it carries the IIN (it must not be echoed).
          const bad = `x${IIN}`;
          cases.push({ name: `${field.name}.${arg.name}`, field: arg.name, bad, ...build(arg, isListType(arg.type) ? [bad] : bad) });
        } else if (named.name === 'Int' && ['limit', 'first'].includes(arg.name)) {
          cases.push({ name: `${field.name}.${arg.name}=1e6`, field: arg.name, bad: '1000000', ...build(arg, 1_000_000) });
          cases.push({ name: `${field.name}.${arg.name}=-1`, field: arg.name, bad: '-1', ...build(arg, -1) });
        } else if (isInputObjectType(named)) {
          for (const inner of Object.values(named.getFields())) {
            if (getNamedType(inner.type).name !== 'ID') continue;
            const value = { ...(dummy(named) as Record<string, unknown>), [inner.name]: IIN };
            cases.push({ name: `${field.name}.${arg.name}.${inner.name}`, field: inner.name, bad: IIN, ...build(arg, value) });
          }
        }
      }
    }
  }
  return cases;
}

function dummy(type: GraphQLInputType): unknown {
  if (isNonNullType(type)) return dummy(type.ofType);
  if (isListType(type)) return [dummy(type.ofType)];
  if (isEnumType(type)) return type.getValues()[0]!.value;
  if (isInputObjectType(type)) {
    return Object.fromEntries(Object.values(type.getFields()).map((f) => [f.name, dummy(f.type)]));
  }
  if (isScalarType(type)) {
    switch (type.name) {
      case 'ID':
        return crypto.randomUUID();
      case 'Int':
        return 1;
      case 'Float':
        return 1;
      case 'Boolean':
        return true;
      default:
        return 'phone';
    }
  }
  return null;
}
