// Portmap v2 (RFC 1833 §3) in the RFC's names: program numbers, the mapping struct and pmaplist.
import type { XdrReader } from '../rpc/xdr-reader.js';
import type { XdrWriter } from '../rpc/xdr-writer.js';

export const PMAP_PORT = 111;
export const PMAP_PROG = 100000;
export const PMAP_VERS = 2;

export const PMAPPROC = {
  NULL: 0,
  SET: 1,
  UNSET: 2,
  GETPORT: 3,
  DUMP: 4,
  CALLIT: 5,
} as const;

/** RFC 1833 §3: supported values of the `prot` field. */
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** RFC 1833 §3: `struct mapping { unsigned int prog; unsigned int vers; unsigned int prot; unsigned int port; }`. */
export interface mapping {
  readonly prog: number;
  readonly vers: number;
  readonly prot: number;
  readonly port: number;
}

export function readMapping(reader: XdrReader): mapping {
  return { prog: reader.readUint(), vers: reader.readUint(), prot: reader.readUint(), port: reader.readUint() };
}

export function writeMapping(writer: XdrWriter, map: mapping): void {
  writer.writeUint(map.prog).writeUint(map.vers).writeUint(map.prot).writeUint(map.port);
}

/** RFC 1833 §3: `struct *pmaplist { mapping map; pmaplist next; }`, an optional-data linked list. */
export function writePmaplist(writer: XdrWriter, maps: readonly mapping[]): void {
  writer.writeList(maps, writeMapping);
}

export function readPmaplist(reader: XdrReader, countMax: number): mapping[] {
  return reader.readList(countMax, readMapping);
}
