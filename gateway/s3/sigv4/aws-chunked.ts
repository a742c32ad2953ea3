// Decodes an aws-chunked body (Content-Encoding: aws-chunked) as it streams: STREAMING-AWS4-HMAC-SHA256-PAYLOAD with
// every chunk signature checked against the chain seeded by the request's signature, and the *-TRAILER variants with
// their trailing x-amz-checksum-* header (and its signature when signed). Data is yielded before its chunk's signature
// is checked, so nothing is buffered whole: the caller must not publish anything until the iteration has ended.
import { createHash } from 'node:crypto';
import { s3Errors } from '../errors.js';
import { EMPTY_SHA256, sameSignature, scopeString, signature, type Scope } from './canonical-request.js';

/** A chunk header line (`hex;chunk-signature=…`) or a trailer line longer than this is refused. */
const LINE_BYTES_MAX = 4096;
/** Chunks are at most this big (SDKs send 64 KiB; the format allows more, memory does not need to). */
const CHUNK_BYTES_MAX = 64 * 1024 * 1024;
const TRAILER_LINES_MAX = 16;

export interface ChunkSigning {
  readonly signingKey: Buffer;
  readonly scope: Scope;
  readonly amzDate: string;
  /** The request's signature, which seeds the chain. */
  readonly seedSignature: string;
}

export interface AwsChunkedOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-*: every chunk signature is checked. */
  readonly signing?: ChunkSigning;
  readonly trailer: boolean;
  /** Receives the trailing headers (lowercase names) once they are read and, when signed, verified. */
  readonly onTrailers?: (trailers: ReadonlyMap<string, string>) => void;
}

class ByteReader {
  #buffer: Buffer = Buffer.alloc(0);
  readonly #source: AsyncIterator<Buffer>;

  constructor(source: AsyncIterable<Buffer>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #fill(): Promise<boolean> {
    const next = await this.#source.next();
    if (next.done === true) return false;
    this.#buffer = this.#buffer.length === 0 ? next.value : Buffer.concat([this.#buffer, next.value]);
    return true;
  }

  async line(): Promise<string> {
    for (;;) {
      const at = this.#buffer.indexOf('\r\n');
      if (at >= 0) {
        const text = this.#buffer.subarray(0, at).toString('latin1');
        this.#buffer = this.#buffer.subarray(at + 2);
        return text;
      }
      if (this.#buffer.length > LINE_BYTES_MAX) throw s3Errors.invalidRequest('an aws-chunked line is too long');
      if (!(await this.#fill())) throw s3Errors.incompleteBody('The aws-chunked body ended in the middle of a line.');
    }
  }

  /** Yields exactly `n` bytes, in the pieces they arrive in. */
  async *take(n: number): AsyncGenerator<Buffer> {
    let left = n;
    while (left > 0) {
      if (this.#buffer.length === 0 && !(await this.#fill())) throw s3Errors.incompleteBody('The aws-chunked body ended in the middle of a chunk.');
      const piece = this.#buffer.subarray(0, left);
      this.#buffer = this.#buffer.subarray(piece.length);
      left -= piece.length;
      yield piece;
    }
  }

  async atEnd(): Promise<boolean> {
    return this.#buffer.length === 0 && !(await this.#fill());
  }
}

export async function* decodeAwsChunked(source: AsyncIterable<Buffer>, options: AwsChunkedOptions): AsyncGenerator<Buffer> {
  const reader = new ByteReader(source);
  const signing = options.signing;
  let previous = signing?.seedSignature ?? '';
  for (;;) {
    const header = await reader.line();
    const [sizeText, ...extensions] = header.split(';');
    if (sizeText === undefined || !/^[0-9a-fA-F]{1,8}$/.test(sizeText)) throw s3Errors.invalidRequest(`"${header.slice(0, 40)}" is not an aws-chunked chunk header`);
    const size = Number.parseInt(sizeText, 16);
    if (size > CHUNK_BYTES_MAX) throw s3Errors.invalidRequest(`an aws-chunked chunk is at most ${CHUNK_BYTES_MAX} bytes`);
    const hash = signing === undefined ? undefined : createHash('sha256');
    for await (const piece of reader.take(size)) {
      hash?.update(piece);
      if (piece.length > 0) yield piece;
    }
    if (signing !== undefined && hash !== undefined) {
      const given = extensions.find((e) => e.startsWith('chunk-signature='))?.slice('chunk-signature='.length);
      if (given === undefined) throw s3Errors.signatureDoesNotMatch();
      const toSign = ['AWS4-HMAC-SHA256-PAYLOAD', signing.amzDate, scopeString(signing.scope), previous, EMPTY_SHA256, hash.digest('hex')].join('\n');
      if (!sameSignature(signature(signing.signingKey, toSign), given)) throw s3Errors.signatureDoesNotMatch();
      previous = given;
    }
    // The zero-length chunk ends the data; with trailers its CRLF is the trailer section's start.
    if (size === 0) break;
    if ((await reader.line()) !== '') throw s3Errors.invalidRequest('an aws-chunked chunk is not followed by CRLF');
  }
  if (options.trailer) {
    const trailers = new Map<string, string>();
    let trailerText = '';
    let trailerSignature: string | undefined;
    for (let i = 0; ; i++) {
      if (i > TRAILER_LINES_MAX) throw s3Errors.invalidRequest('too many aws-chunked trailer lines');
      const line = await reader.line();
      if (line === '') {
        if (trailers.size === 0 && trailerSignature === undefined && i === 0) continue; // CRLF after the last chunk
        break;
      }
      const at = line.indexOf(':');
      if (at < 0) throw s3Errors.invalidRequest(`"${line.slice(0, 40)}" is not a trailer`);
      const name = line.slice(0, at).trim().toLowerCase();
      const value = line.slice(at + 1).trim();
      if (name === 'x-amz-trailer-signature') trailerSignature = value;
      else { trailers.set(name, value); trailerText += `${name}:${value}\n`; }
    }
    if (signing !== undefined) {
      if (trailerSignature === undefined) throw s3Errors.signatureDoesNotMatch();
      const toSign = ['AWS4-HMAC-SHA256-TRAILER', signing.amzDate, scopeString(signing.scope), previous, createHash('sha256').update(trailerText).digest('hex')].join('\n');
      if (!sameSignature(signature(signing.signingKey, toSign), trailerSignature)) throw s3Errors.signatureDoesNotMatch();
    }
    options.onTrailers?.(trailers);
  } else if ((await reader.line()) !== '') {
    throw s3Errors.invalidRequest('the final aws-chunked chunk is not followed by CRLF');
  }
  if (!(await reader.atEnd())) throw s3Errors.invalidRequest('bytes follow the end of the aws-chunked body');
}
