import { request as httpRequest } from 'node:http';
import { Body, Controller, Get, Header, HttpCode, Module, NotFoundException, Post, Query, Req, type INestApplication } from '@nestjs/common';
import { NestFactory, type AbstractHttpAdapter } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { httpCall, type HttpCallResponse } from '../src/connect/testing/http-call.js';
import { tuneHttpAdapter } from '../src/connect/index.js';
import { weakEtag } from '../src/connect/http/tune-http-adapter.js';

/** What a route saw of its request body. */
interface Seen {
  hasBodyProperty: boolean;
  body: unknown;
  rawBody: string | null;
}

const BODIES = {
  ascii: 'hello',
  empty: '',
  unicode: 'é☃😀 – ünïcödé',
  long: 'x'.repeat(70_000),
};

@Controller('t')
class ProbeController {
  @Get('seen')
  seenOnGet(@Req() request: { body?: unknown; rawBody?: Buffer }): Seen {
    return { hasBodyProperty: 'body' in request, body: request.body ?? null, rawBody: request.rawBody?.toString('utf8') ?? null };
  }

  @Post('seen')
  @HttpCode(200)
  seenOnPost(@Body() body: unknown, @Req() request: { rawBody?: Buffer }): Seen {
    return { hasBodyProperty: true, body: body ?? null, rawBody: request.rawBody?.toString('utf8') ?? null };
  }

  @Get('text')
  text(@Query('name') name: string): string {
    return (BODIES as Record<string, string | undefined>)[name] ?? '';
  }

  @Get('json')
  json(): unknown {
    return { clientKey: '00000000-0000-4000-8000-000000000000', accountId: null, productType: 'jira', note: BODIES.unicode };
  }

  @Get('list')
  list(): unknown {
    return [1, 'two', { three: [3] }, null, new Date(0)];
  }

  @Get('accepted')
  @HttpCode(202)
  accepted(): unknown {
    return { queued: true };
  }

  @Get('no-content')
  @HttpCode(204)
  noContent(): unknown {
    return { ignored: true };
  }

  @Get('missing')
  missing(): never {
    throw new NotFoundException({ type: 'probe/missing', message: 'Not here' });
  }

  @Get('boom')
  boom(): never {
    throw new Error('a bug');
  }

  @Get('typed')
  @Header('Content-Type', 'application/vnd.api+json')
  typed(): unknown {
    return { data: [] };
  }

  @Get('tagged')
  @Header('ETag', '"v1"')
  tagged(): unknown {
    return { version: 1 };
  }

  @Get('chunked')
  @Header('Transfer-Encoding', 'chunked')
  chunked(): unknown {
    return { streamed: true };
  }

  @Get('nothing')
  nothing(): unknown {
    return { toJSON: () => undefined };
  }
}

/** A response as it came off the wire: status, header names as sent (in order, minus Date and X-Powered-By) and body bytes. */
interface WireResponse {
  status: number | undefined;
  headers: string[];
  body: string;
}

function wire(url: string, method = 'GET', headers: Record<string, string> = {}): Promise<WireResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method, headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const pairs: string[] = [];
        for (let index = 0; index < response.rawHeaders.length; index += 2) {
          const name = response.rawHeaders[index]!;
          if (!['date', 'x-powered-by'].includes(name.toLowerCase())) pairs.push(`${name}: ${response.rawHeaders[index + 1]}`);
        }
        resolve({ status: response.statusCode, headers: pairs, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

@Module({ controllers: [ProbeController] })
class ProbeModule {}

async function start(adapter: AbstractHttpAdapter, rawBody = false): Promise<{ app: INestApplication; url: string }> {
  const app = await NestFactory.create(ProbeModule, adapter, { logger: false, rawBody });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  return { app, url: `http://127.0.0.1:${address.port}` };
}

const post = (url: string, contentType: string, body: string): Promise<HttpCallResponse> =>
  httpCall({ method: 'POST', url: `${url}/t/seen`, headers: { 'content-type': contentType }, body });

describe('tuneHttpAdapter() on Express', () => {
  let tuned: { app: INestApplication; url: string };
  let plain: { app: INestApplication; url: string };

  beforeAll(async () => {
    tuned = await start(tuneHttpAdapter(new ExpressAdapter()));
    plain = await start(new ExpressAdapter());
  });
  afterAll(async () => {
    await tuned?.app.close();
    await plain?.app.close();
  });

  it('registers the body parsers as one layer, not one per parser', () => {
    const names = (app: INestApplication) => (app.getHttpAdapter().getInstance() as { router: { stack: { name: string }[] } }).router.stack.map((layer) => layer.name);
    expect(names(plain.app)).toEqual(expect.arrayContaining(['jsonParser', 'urlencodedParser']));
    expect(names(tuned.app)).toContain('connectBodyParser');
    expect(names(tuned.app)).not.toContain('jsonParser');
    expect(names(tuned.app)).not.toContain('urlencodedParser');
  });

  it('gives a GET without a body what the untuned parsers give it: req.body present and undefined', async () => {
    for (const side of [tuned, plain]) {
      const response = await httpCall({ method: 'GET', url: `${side.url}/t/seen` });
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ hasBodyProperty: true, body: null, rawBody: null });
    }
  });

  it('parses JSON and URL-encoded bodies as before (extended form syntax included)', async () => {
    const cases: [string, string][] = [
      ['application/json', JSON.stringify({ a: 1, nested: { b: [true, null] }, text: BODIES.unicode })],
      ['application/json; charset=utf-8', '[1,2,3]'],
      ['application/x-www-form-urlencoded', 'a=1&b%5Bc%5D=2&list%5B%5D=x&list%5B%5D=y'],
      ['text/plain', 'not parsed'],
    ];
    for (const [contentType, body] of cases) {
      const [mine, theirs] = await Promise.all([post(tuned.url, contentType, body), post(plain.url, contentType, body)]);
      expect({ contentType, status: mine.status, body: mine.body }).toEqual({ contentType, status: theirs.status, body: theirs.body });
      expect(mine.status).toBe(200);
    }
    const form = (await post(tuned.url, 'application/x-www-form-urlencoded', 'b%5Bc%5D=2')).body as Seen;
    expect(form.body).toEqual({ b: { c: '2' } });
  });

  it('answers a broken or oversized body as the untuned app does (400, 413)', async () => {
    const broken = await Promise.all([post(tuned.url, 'application/json', '{"a":'), post(plain.url, 'application/json', '{"a":')]);
    expect(broken.map((response) => response.status)).toEqual([400, 400]);
    expect(broken[0].text).toBe(broken[1].text);
    const huge = JSON.stringify({ text: 'y'.repeat(200 * 1024) });
    const large = await Promise.all([post(tuned.url, 'application/json', huge), post(plain.url, 'application/json', huge)]);
    expect(large.map((response) => response.status)).toEqual([413, 413]);
  });

  it('no longer sends X-Powered-By', async () => {
    expect((await httpCall({ method: 'GET', url: `${plain.url}/t/json` })).headers['x-powered-by']).toBe('Express');
    expect((await httpCall({ method: 'GET', url: `${tuned.url}/t/json` })).headers['x-powered-by']).toBeUndefined();
  });

  it("sends Express's own ETags, byte for byte, and still answers If-None-Match with 304", async () => {
    const paths = ['/t/json', ...Object.keys(BODIES).map((name) => `/t/text?name=${name}`)];
    for (const path of paths) {
      const [mine, theirs] = await Promise.all([httpCall({ method: 'GET', url: tuned.url + path }), httpCall({ method: 'GET', url: plain.url + path })]);
      expect({ path, etag: mine.headers.etag }).toEqual({ path, etag: theirs.headers.etag });
      expect(mine.headers.etag).toMatch(/^W\/"[0-9a-f]+-[A-Za-z0-9+/]{27}"$/);
      const again = await httpCall({ method: 'GET', url: tuned.url + path, headers: { 'if-none-match': String(mine.headers.etag) } });
      expect(again.status).toBe(304);
    }
  });

  it('writes every JSON reply with the status, headers (names, order) and bytes of the untuned app', async () => {
    const cases: [string, string, Record<string, string>?][] = [
      ['GET', '/t/json'],
      ['GET', '/t/list'],
      ['GET', '/t/accepted'],
      ['GET', '/t/no-content'],
      ['GET', '/t/missing'],
      ['GET', '/t/boom'],
      ['GET', '/t/nowhere'],
      ['GET', '/t/typed'],
      ['GET', '/t/tagged'],
      ['GET', '/t/nothing'],
      ['GET', '/t/chunked'],
      ['GET', '/t/seen'],
      ['HEAD', '/t/json'],
      ['GET', '/t/json', { 'if-none-match': '"something else"' }],
      ['GET', '/t/json', { 'if-modified-since': new Date().toUTCString() }],
    ];
    for (const [method, path, headers] of cases) {
      const [mine, theirs] = await Promise.all([wire(tuned.url + path, method, headers), wire(plain.url + path, method, headers)]);
      expect({ method, path, sent: headers, ...mine }).toEqual({ method, path, sent: headers, ...theirs });
    }
  });

  it("writes plain JSON replies itself and leaves the rest to Express's res.json()", async () => {
    const response = (tuned.app.getHttpAdapter().getInstance() as { response: { json: (...args: unknown[]) => unknown } }).response;
    const json = response.json;
    let calls = 0;
    response.json = function (this: unknown, ...args: unknown[]) {
      calls++;
      return json.apply(this, args);
    };
    try {
      for (const path of ['/t/json', '/t/list', '/t/accepted', '/t/missing', '/t/boom']) await wire(tuned.url + path);
      expect(calls).toBe(0);
      for (const path of ['/t/typed', '/t/tagged', '/t/chunked', '/t/nothing', '/t/no-content']) await wire(tuned.url + path);
      await wire(tuned.url + '/t/json', 'HEAD');
      await wire(tuned.url + '/t/json', 'GET', { 'if-none-match': '"x"' });
      expect(calls).toBe(7);
    } finally {
      response.json = json;
    }
  });

  it('leaves replies to Express when the app changed its JSON or ETag settings, and they follow them', async () => {
    const settings: [string, unknown][] = [
      ['json spaces', 2],
      ['json replacer', (key: string, value: unknown) => (key === 'accountId' ? 'replaced' : value)],
      ['json escape', true],
      ['etag', 'strong'],
      ['etag', false],
    ];
    for (const [name, value] of settings) {
      const apps = [await start(tuneHttpAdapter(new ExpressAdapter())), await start(new ExpressAdapter())];
      try {
        for (const { app } of apps) (app.getHttpAdapter().getInstance() as { set(name: string, value: unknown): unknown }).set(name, value);
        const [mine, theirs] = await Promise.all(apps.map(({ url }) => wire(`${url}/t/json`)));
        expect({ name, ...mine }).toEqual({ name, ...theirs });
      } finally {
        for (const { app } of apps) await app.close();
      }
    }
  });

  it('computes weakEtag() the way Express does for strings in other encodings and for Buffers', async () => {
    const express = plain.app.getHttpAdapter().getInstance() as { get(name: 'etag fn'): (body: string | Buffer, encoding?: string) => string };
    const generate = express.get('etag fn');
    const inputs: [string | Buffer, BufferEncoding | undefined][] = [
      ['', 'utf8'],
      [BODIES.unicode, 'utf8'],
      [BODIES.unicode, 'latin1'],
      ['aGVsbG8=', 'base64'],
      [Buffer.from(BODIES.long), undefined],
      [Buffer.alloc(0), undefined],
    ];
    for (const [body, encoding] of inputs) expect(weakEtag(body, encoding)).toBe(generate(body, encoding));
  });

  it('keeps rawBody working (NestFactory.create(..., { rawBody: true }))', async () => {
    const raw = await start(tuneHttpAdapter(new ExpressAdapter()), true);
    try {
      const text = '{ "a" : 1 }';
      const seen = (await post(raw.url, 'application/json', text)).body as Seen;
      expect(seen).toEqual({ hasBodyProperty: true, body: { a: 1 }, rawBody: text });
    } finally {
      await raw.app.close();
    }
  });
});

describe('tuneHttpAdapter() on Fastify', () => {
  it('returns the adapter as it is', () => {
    const adapter = new FastifyAdapter();
    expect(tuneHttpAdapter(adapter)).toBe(adapter);
    expect(Object.prototype.hasOwnProperty.call(adapter, 'registerParserMiddleware')).toBe(false);
  });
});
