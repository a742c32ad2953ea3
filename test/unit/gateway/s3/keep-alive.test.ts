// Goal: a long CompleteMultipartUpload is answered as AWS answers it: a quick one normally (its own status on failure),
// a slow one with a 200 whose body is the XML declaration, a space every interval while the work goes on, then the
// result or an <Error> document, the whole body one well-formed XML document. Method: answerWhileWorking on promises
// settled by hand, driven by the simulator's clock; the streamed body is read back and parsed.
import test from 'ava';
import type { PassThrough } from 'node:stream';
import { answerWhileWorking, type KeepAliveOptions } from '../../../../gateway/s3/keep-alive.js';
import { parseXml } from '../../../../gateway/s3/xml.js';
import { SimClock } from '../../../sim/harness/sim-clock.js';

const RESULT = '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>';

function settleable(): { promise: Promise<string>; resolve: (v: string) => void; reject: (e: unknown) => void } {
  let resolve!: (v: string) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<string>((res, rej) => { resolve = res; reject = rej; });
  return { promise, resolve, reject };
}

const options = (clock: SimClock): KeepAliveOptions => ({
  clock, firstByteMs: 5_000, intervalMs: 10_000, errorDocument: (err) => `<Error><Code>InternalError</Code><Message>${(err as Error).message}</Message></Error>`,
});

const flush = (): Promise<void> => new Promise((done) => setImmediate(done));

async function readAll(body: PassThrough): Promise<string> {
  let text = '';
  for await (const chunk of body) text += (chunk as Buffer).toString();
  return text;
}

test('work done before the first byte is due is answered whole', async (t) => {
  const clock = new SimClock();
  const answer = await answerWhileWorking(Promise.resolve(RESULT), options(clock));
  t.deepEqual(answer, { kind: 'done', document: RESULT });
});

test('work that fails before the first byte is due rejects, so that the error gets its own status', async (t) => {
  const clock = new SimClock();
  await t.throwsAsync(answerWhileWorking(Promise.reject(new Error('InvalidPart')), options(clock)), { message: 'InvalidPart' });
});

test('slow work: the declaration at once, a space per interval, then the result; one XML document', async (t) => {
  const clock = new SimClock();
  const work = settleable();
  const answering = answerWhileWorking(work.promise, options(clock));
  await flush();
  clock.runFor(5_000);
  const answer = await answering;
  if (answer.kind !== 'streaming') return t.fail('expected a streamed answer');
  clock.runFor(35_000); // three intervals
  work.resolve(RESULT);
  await flush();
  clock.runFor(60_000); // no spaces after the end
  const text = await readAll(answer.body);
  t.is(text, `<?xml version="1.0" encoding="UTF-8"?>\n   <CompleteMultipartUploadResult><ETag>"abc-2"</ETag></CompleteMultipartUploadResult>`);
  t.deepEqual(parseXml(text, []), { '?xml': '', CompleteMultipartUploadResult: { ETag: '"abc-2"' } });
});

test('slow work that fails: an <Error> document in the 200', async (t) => {
  const clock = new SimClock();
  const work = settleable();
  const answering = answerWhileWorking(work.promise, options(clock));
  await flush();
  clock.runFor(5_000);
  const answer = await answering;
  if (answer.kind !== 'streaming') return t.fail('expected a streamed answer');
  clock.runFor(10_000);
  work.reject(new Error('part 6 changed'));
  await flush();
  t.is(await readAll(answer.body), '<?xml version="1.0" encoding="UTF-8"?>\n <Error><Code>InternalError</Code><Message>part 6 changed</Message></Error>');
});
