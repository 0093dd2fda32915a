// The official OpenAI JavaScript SDK against `gemma3n serve --http` on the
// tiny model (run by http_api_test.cc, which starts the servers and passes
// their addresses). Every check throws on failure; the exit code is the
// verdict. A missing SDK fails the import: it must never pass by skipping.
//
// Environment: OPENAI_SDK_DIR (the npm package, scripts/fetch_openai_sdk.sh),
// GEMMA3N_MODEL (the served model id), GEMMA3N_DATA (tests/data), and the
// base URLs GEMMA3N_BASE (the system), GEMMA3N_SMALL_BASE (--max-request-mb 1),
// GEMMA3N_BUSY_BASE (--max-concurrent 1 --max-queued 0), GEMMA3N_DEAD_BASE
// (its text worker address is dead).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const sdk = await import(pathToFileURL(path.join(env('OPENAI_SDK_DIR'), 'index.mjs')).href);
const OpenAI = sdk.default;
const { toFile } = sdk;

const model = env('GEMMA3N_MODEL');
const data = env('GEMMA3N_DATA');
// No retries: a 429 or 503 must reach the test, not be retried away.
const client = (base) => new OpenAI({ baseURL: base, apiKey: 'unused', maxRetries: 0, timeout: 60000 });
const main = client(env('GEMMA3N_BASE'));

let passed = 0;
async function check(name, body) {
  try {
    await body();
  } catch (e) {
    console.error(`FAILED ${name}:`, e);
    process.exit(1);
  }
  passed += 1;
  console.log(`ok ${name}`);
}

// The error the call throws, which must be one.
async function rejection(promise) {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('the call succeeded; an error was expected');
}

const hello = [{ role: 'user', content: 'Hello' }];

await check('models.list', async () => {
  const ids = [];
  for await (const m of main.models.list()) {
    assert.equal(m.object, 'model');
    ids.push(m.id);
  }
  assert.equal(ids[0], model);
  for (const id of ids.slice(1)) assert.ok(id.startsWith(`${model}:`), id);
  const one = await main.models.retrieve(model);
  assert.equal(one.id, model);
  const e = await rejection(main.models.retrieve('gpt-4o'));
  assert.ok(e instanceof OpenAI.NotFoundError, String(e));
});

let wholeText = '';
await check('chat, not streaming', async () => {
  const r = await main.chat.completions.create({ model, messages: hello, max_tokens: 6 });
  assert.equal(r.object, 'chat.completion');
  assert.ok(r.id.startsWith('chatcmpl-'));
  assert.equal(r.model, model);
  assert.equal(r.choices.length, 1);
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(typeof r.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(r.choices[0].finish_reason));
  assert.ok(r.usage.prompt_tokens > 0 && r.usage.completion_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
  wholeText = r.choices[0].message.content;
});

await check('chat, streaming with usage', async () => {
  const stream = await main.chat.completions.create({
    model, messages: hello, max_tokens: 6, stream: true, stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  assert.equal(chunks[0].object, 'chat.completion.chunk');
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  const last = chunks[chunks.length - 1];
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.completion_tokens > 0);
  const finish = chunks[chunks.length - 2];
  assert.ok(['stop', 'length'].includes(finish.choices[0].finish_reason));
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, wholeText, 'greedy: the stream says what the whole reply said');
});

await check('stop strings and seeded sampling', async () => {
  // Greedy again with a stop string from the reply: it ends before the first match.
  const stop = [...wholeText].slice(2, 3).join('');
  assert.ok(stop.length > 0, `a reply of 3 characters at least: ${JSON.stringify(wholeText)}`);
  const r = await main.chat.completions.create({ model, messages: hello, max_tokens: 6, stop: [stop] });
  assert.equal(r.choices[0].message.content, wholeText.slice(0, wholeText.indexOf(stop)));
  assert.equal(r.choices[0].finish_reason, 'stop');
  // Sampling: the same seed gives the same text.
  const sampled = () => main.chat.completions.create({
    model, messages: hello, max_tokens: 8, temperature: 1.5, top_k: 50, seed: 1234,
  });
  const [a, b] = [await sampled(), await sampled()];
  assert.equal(a.choices[0].message.content, b.choices[0].message.content);
});

const textOnly = await main.chat.completions.create({
  model, messages: [{ role: 'user', content: 'Describe' }], max_tokens: 1,
});

// "Describe" and a media part: the media must add their soft tokens to the prompt.
async function describe(part) {
  const r = await main.chat.completions.create({
    model, max_tokens: 3, messages: [{ role: 'user', content: [{ type: 'text', text: 'Describe' }, part] }],
  });
  assert.ok(r.usage.prompt_tokens > textOnly.usage.prompt_tokens + 4, 'the media part takes its soft tokens');
}
const base64 = (...p) => fs.readFileSync(path.join(data, ...p)).toString('base64');

await check('chat with a data-URI image part', () => describe(
  { type: 'image_url', image_url: { url: `data:image/png;base64,${base64('images', 'image_0.png')}` } }));

await check('chat with an input_audio WAV part', () => describe(
  { type: 'input_audio', input_audio: { data: base64('audio', 'audio_0.wav'), format: 'wav' } }));

await check('audio.transcriptions.create with a file', async () => {
  const file = await toFile(fs.readFileSync(path.join(data, 'audio', 'audio_1.wav')), 'audio_1.wav');
  const r = await main.audio.transcriptions.create({
    file, model, response_format: 'verbose_json', language: 'en',
  });
  assert.equal(typeof r.text, 'string');
  assert.equal(r.segments.length, 1);
  assert.equal(r.segments[0].start, 0);
  assert.ok(r.duration > 0.5 && r.duration < 2, `duration ${r.duration}`);
  assert.equal(r.segments[0].end, r.duration);
  const plain = await main.audio.transcriptions.create({
    file: await toFile(fs.readFileSync(path.join(data, 'audio', 'audio_1.wav')), 'a.wav'), model,
    response_format: 'text',
  });
  assert.equal(typeof plain, 'string');
});

await check('completions, whole and streaming', async () => {
  const r = await main.completions.create({ model, prompt: 'Once upon a time', max_tokens: 4 });
  assert.equal(r.object, 'text_completion');
  assert.ok(r.id.startsWith('cmpl-'));
  assert.equal(typeof r.choices[0].text, 'string');
  assert.equal(r.usage.completion_tokens, 4);
  assert.equal(r.choices[0].finish_reason, 'length');
  const stream = await main.completions.create({ model, prompt: 'Once upon a time', max_tokens: 4, stream: true });
  let text = '';
  let finish = null;
  for await (const c of stream) {
    text += c.choices[0].text;
    finish = c.choices[0].finish_reason ?? finish;
  }
  assert.equal(text, r.choices[0].text);
  assert.equal(finish, 'length');
});

await check('400: a field of the wrong type, n > 1, a refused field', async () => {
  for (const [extra, param] of [[{ temperature: 'hot' }, 'temperature'], [{ n: 2 }, 'n'],
    [{ tools: [{ type: 'function', function: { name: 'f' } }] }, 'tools'], [{ logprobs: true }, 'logprobs']]) {
    const e = await rejection(main.chat.completions.create({ model, messages: hello, ...extra }));
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    assert.equal(e.status, 400);
    assert.equal(e.param, param);
    assert.equal(e.type, 'invalid_request_error');
  }
  // A value the gRPC path refuses (top_p must be in (0, 1]).
  const e = await rejection(main.chat.completions.create({ model, messages: hello, top_p: 0 }));
  assert.ok(e instanceof OpenAI.BadRequestError, String(e));
  assert.match(e.message, /top_p/);
});

await check('404: an unknown model', async () => {
  for (const name of ['gpt-4o', `${model}:no-such-profile`]) {
    const e = await rejection(main.chat.completions.create({ model: name, messages: hello }));
    assert.ok(e instanceof OpenAI.NotFoundError, String(e));
    assert.equal(e.status, 404);
    assert.equal(e.code, 'model_not_found');
  }
});

await check('413: a body over --max-request-mb', async () => {
  const small = client(env('GEMMA3N_SMALL_BASE'));
  const big = Buffer.alloc(1200 * 1024, 7).toString('base64');  // 1.6 MB of base64, over 1 MB
  const e = await rejection(small.chat.completions.create({
    model, messages: [{ role: 'user', content: [
      { type: 'image_url', image_url: { url: `data:image/png;base64,${big}` } }] }],
  }));
  assert.ok(e instanceof OpenAI.APIError, String(e));
  assert.equal(e.status, 413);
  assert.equal(e.code, 'request_too_large');
});

await check('429: the queue is full', async () => {
  const busy = client(env('GEMMA3N_BUSY_BASE'));
  // A long generation takes the only slot; the next request finds no room.
  const holder = await busy.completions.create({
    model, prompt: 'Once upon a time', max_tokens: 30000, ignore_eos: true, stream: true,
  });
  const it = holder[Symbol.asyncIterator]();
  await it.next();  // streaming: it holds the slot now
  const e = await rejection(busy.chat.completions.create({ model, messages: hello, max_tokens: 2 }));
  holder.controller.abort();
  assert.ok(e instanceof OpenAI.RateLimitError, String(e));
  assert.equal(e.status, 429);
});

await check('503: no text worker is up', async () => {
  const dead = client(env('GEMMA3N_DEAD_BASE'));
  const e = await rejection(dead.chat.completions.create({ model, messages: hello, max_tokens: 2 }));
  assert.ok(e instanceof OpenAI.InternalServerError, String(e));
  assert.equal(e.status, 503);
  assert.match(e.message, /text worker/);
});

await check('/health: 200 while a text worker is up, else 503', async () => {
  const root = (base) => base.replace(/\/v1$/, '');
  const up = await fetch(`${root(env('GEMMA3N_BASE'))}/health`);
  assert.equal(up.status, 200);
  assert.equal((await up.json()).status, 'ok');
  const down = await fetch(`${root(env('GEMMA3N_DEAD_BASE'))}/health`);
  assert.equal(down.status, 503);
  assert.match((await down.json()).error.message, /no text worker/);
});

await check('404 path and 405 method', async () => {
  const base = env('GEMMA3N_BASE');
  const nope = await fetch(`${base}/nope`);
  assert.equal(nope.status, 404);
  assert.ok((await nope.json()).error.message.includes('/v1/nope'));
  const wrong = await fetch(`${base}/chat/completions`, { method: 'GET' });
  assert.equal(wrong.status, 405);
  assert.equal((await wrong.json()).error.code, 'method_not_allowed');
});

console.log(`openai_client: all ${passed} checks passed`);
