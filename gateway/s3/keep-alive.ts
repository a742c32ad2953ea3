// A long operation answered as AWS answers CompleteMultipartUpload: if it is not done within a few seconds, a 200 goes
// out at once with the XML declaration, then a space every few seconds so that the client's read timeout (awscli's
// is 60 s) does not fire and make it retry an upload that is still being completed, then the result's document, or an
// <Error> document, which awscli, the AWS SDKs and aws-sdk-go look for in a 200 to this operation.
import { PassThrough } from 'node:stream';
import type { Clock } from '../../storage-node/base/clock.js';

const XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n';

export interface KeepAliveOptions {
  readonly clock: Clock;
  /** Operations done within this answer normally (with their own status on failure). */
  readonly firstByteMs: number;
  readonly intervalMs: number;
  /** The <Error> document for a failure after the 200 went out (its root element, without a declaration). */
  readonly errorDocument: (err: unknown) => string;
}

export type KeepAliveAnswer =
  | { readonly kind: 'done'; readonly document: string }
  | { readonly kind: 'streaming'; readonly body: PassThrough };

/** `work` resolves to a full XML document (with its declaration). Rejects only when `work` fails within firstByteMs. */
export async function answerWhileWorking(work: Promise<string>, options: KeepAliveOptions): Promise<KeepAliveAnswer> {
  const { clock } = options;
  let timer: number | undefined;
  const slow = new Promise<'slow'>((resolve) => (timer = clock.setTimer(options.firstByteMs, () => resolve('slow'))));
  const first = await Promise.race([work, slow]).finally(() => {
    if (timer !== undefined) clock.clearTimer(timer);
  });
  if (first !== 'slow') return { kind: 'done', document: first };

  const body = new PassThrough();
  body.write(XML_DECLARATION);
  let ticking = true;
  let tick: number | undefined;
  const schedule = (): void => {
    tick = clock.setTimer(options.intervalMs, () => {
      if (!ticking) return;
      body.write(' ');
      schedule();
    });
  };
  schedule();
  const finish = (document: string): void => {
    ticking = false;
    if (tick !== undefined) clock.clearTimer(tick);
    body.end(document);
  };
  work.then(
    (document) => finish(document.startsWith(XML_DECLARATION) ? document.slice(XML_DECLARATION.length) : document),
    (err: unknown) => finish(options.errorDocument(err)),
  );
  return { kind: 'streaming', body };
}
