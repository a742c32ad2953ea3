// msgpack encoding of wire messages; Buffers travel as binary, never as base64.
import { Packr } from 'msgpackr';
import { ShoalError } from '../base/errors.js';
import { parseWireMessage, type WireMessage } from './messages.js';

// Plain structures only: records would let a peer define types, and Maps/Dates are not part of the protocol.
const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, int64AsType: 'number' });

export function encodeMessage(message: WireMessage): Buffer {
  return packr.pack(message);
}

export function decodeMessage(payload: Buffer): WireMessage {
  let value: unknown;
  try {
    value = packr.unpack(payload);
  } catch (cause) {
    throw new ShoalError('Invalid', 'frame payload is not msgpack', { subject: 'frame', cause });
  }
  const message = parseWireMessage(value);
  if (!message) throw new ShoalError('Invalid', 'frame payload is not a Shoal wire message', { subject: 'frame' });
  return message;
}

/** The encoded size of a value, for traffic metrics of messages that travel inside a request body. */
export function encodedBytes(value: unknown): number {
  return packr.pack(value).length;
}
