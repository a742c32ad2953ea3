// The portmapper program (RFC 1833 §3, version 2) answering from the programs this gateway serves, and a function to start it.
import type { Logger } from '../../storage-node/base/log.js';
import { nullProcedure, type RpcHandler, type RpcProgram } from '../rpc/rpc-program.js';
import { RpcServer } from '../rpc/rpc-server.js';
import { IPPROTO_TCP, PMAP_PROG, PMAP_VERS, PMAPPROC, readMapping, writePmaplist, type mapping } from './types.js';

/** The current mappings: read on every call, so servers started later are listed. */
export type PortmapSource = () => readonly mapping[];

/** One TCP mapping per registered program and version of each listening server. */
export function mappingsOf(servers: readonly RpcServer[]): mapping[] {
  const maps: mapping[] = [];
  for (const server of servers) {
    const port = server.address()?.port;
    if (port === undefined) continue;
    for (const { prog, versions } of server.programs()) {
      for (const vers of versions) maps.push({ prog, vers, prot: IPPROTO_TCP, port });
    }
  }
  return maps;
}

/**
 * PMAPPROC_GETPORT: the port of (prog, vers, prot), or 0 when not registered (RFC 1833 §3). Like
 * portmap and rpcbind, another version of the same program on the same protocol is answered when the
 * exact version is not there, so the client learns the supported range from the server's PROG_MISMATCH.
 */
export function getport(maps: readonly mapping[], wanted: mapping): number {
  const sameProgram = maps.filter((m) => m.prog === wanted.prog && m.prot === wanted.prot);
  return (sameProgram.find((m) => m.vers === wanted.vers) ?? sameProgram[0])?.port ?? 0;
}

/**
 * SET and UNSET answer FALSE: the table is the gateway's own programs, and no other process may add to
 * it (RFC 1833 has no authentication for SET; rpcbind limits it to local callers, we to nobody).
 * CALLIT (indirect calls, an amplification vector over UDP) is not offered: PROC_UNAVAIL.
 */
export function portmapProgram(source: PortmapSource): RpcProgram {
  const refuse: RpcHandler = async (args, call) => {
    const map = readMapping(args);
    call.log.info({ prog: map.prog, vers: map.vers, prot: map.prot, port: map.port }, 'portmap.set_refused');
    return (w) => w.writeBool(false);
  };
  return {
    prog: PMAP_PROG,
    name: 'portmap',
    versions: {
      [PMAP_VERS]: {
        [PMAPPROC.NULL]: nullProcedure('PMAPPROC_NULL'),
        [PMAPPROC.SET]: { name: 'PMAPPROC_SET', handler: refuse },
        [PMAPPROC.UNSET]: { name: 'PMAPPROC_UNSET', handler: refuse },
        [PMAPPROC.GETPORT]: { name: 'PMAPPROC_GETPORT', handler: async (args) => {
          const port = getport(source(), readMapping(args));
          return (w) => w.writeUint(port);
        } },
        [PMAPPROC.DUMP]: { name: 'PMAPPROC_DUMP', handler: async () => {
          const maps = source();
          return (w) => writePmaplist(w, maps);
        } },
      },
    },
  };
}

export interface StartPortmapOptions {
  readonly host: string;
  /** PMAP_PORT (111) needs root or CAP_NET_BIND_SERVICE; the caller decides, and logs that portmap is off if this rejects. */
  readonly port: number;
  /** The servers whose programs are listed; the portmapper lists itself too. */
  readonly servers: readonly RpcServer[];
  readonly log: Logger;
}

/** Starts a portmapper on its own RPC server; rejects with the bind error (EACCES, EADDRINUSE). */
export async function startPortmap(options: StartPortmapOptions): Promise<RpcServer> {
  const server = new RpcServer({ log: options.log.child({ component: 'portmap' }) });
  server.register(portmapProgram(() => mappingsOf([server, ...options.servers])));
  await server.listen({ host: options.host, port: options.port });
  return server;
}
