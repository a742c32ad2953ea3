// The material every party needs for mutual TLS inside one cluster: its key and certificate, and the cluster CA.
import type { PeerCertificate } from 'node:tls';

export interface TlsCredentials {
  /** PEM private key of this node, gateway or client. */
  readonly key: string;
  /** PEM certificate signed by the cluster CA; its common name is the holder's id. */
  readonly cert: string;
  /** PEM certificate of the cluster CA: the only authority a peer's certificate may come from. */
  readonly ca: string;
}

export function peerId(certificate: PeerCertificate | undefined): string | undefined {
  const cn = certificate?.subject?.CN;
  return typeof cn === 'string' ? cn : Array.isArray(cn) ? cn[0] : undefined;
}

export function peerRole(certificate: PeerCertificate | undefined): string | undefined {
  const ou = certificate?.subject?.OU;
  return typeof ou === 'string' ? ou : Array.isArray(ou) ? ou[0] : undefined;
}
