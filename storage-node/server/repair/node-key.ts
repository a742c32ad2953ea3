// A storage node's signing key for quorum changes, and the trust in other nodes' keys. Repair moves a mutable block
// whose owner is away, so a node signs that version; acceptors accept such a version (quorum changed, nothing else)
// only from a key the cluster CA vouched for: the CA signs (node id, Ed25519 public key) when the node first starts.
import { createPrivateKey, createPublicKey, sign, verify, X509Certificate } from 'node:crypto';
import { ShoalError } from '../../base/errors.js';

export interface NodeKeyCertificate {
  readonly node: string;
  /** Raw 32-byte Ed25519 public key: the `writer` of the versions this node signs. */
  readonly publicKey: Buffer;
  /** The cluster CA's signature over keyCertificateBytes(node, publicKey). */
  readonly signature: Buffer;
}

const DOMAIN = 'shoal/node-signing-key/v1';

function keyCertificateBytes(node: string, publicKey: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${DOMAIN}\0${node}\0`), publicKey]);
}

/** Made where the CA key is at hand (the node's first start from the cluster directory). */
export function signNodeKey(caKeyPem: string, node: string, publicKey: Buffer): NodeKeyCertificate {
  const signature = sign('sha256', keyCertificateBytes(node, publicKey), createPrivateKey(caKeyPem));
  return { node, publicKey, signature };
}

export function parseNodeKeyCertificate(body: unknown): NodeKeyCertificate {
  const fields = body as Record<string, unknown> | null;
  if (typeof fields !== 'object' || fields === null) throw new ShoalError('Invalid', 'a node key certificate must be a map', { subject: 'frame' });
  const { node, publicKey, signature } = fields;
  if (typeof node !== 'string' || node.length === 0 || node.length > 256) throw new ShoalError('Invalid', 'node key certificate: node must be a node id', { subject: 'frame' });
  if (!Buffer.isBuffer(publicKey) || publicKey.length !== 32) throw new ShoalError('Invalid', 'node key certificate: publicKey must be 32 bytes', { subject: 'frame' });
  if (!Buffer.isBuffer(signature) || signature.length > 1024) throw new ShoalError('Invalid', 'node key certificate: signature must be bytes', { subject: 'frame' });
  return { node, publicKey, signature };
}

/** Node signing keys this node accepts quorum changes from: only those the cluster CA signed. */
export class TrustedNodeKeys {
  readonly #caPublicKey;
  readonly #trusted = new Map<string, NodeKeyCertificate>();
  readonly #onNew: ((all: readonly NodeKeyCertificate[]) => void) | undefined;

  /**
   * `remembered`: certificates kept from an earlier run (checked again; a bad one is skipped), so that a restarted
   * node takes repair's quorum moves at once instead of refusing them until the next announcement. `onNew` is told
   * the whole list each time a key is added, to remember it.
   */
  constructor(caCertPem: string, options: { remembered?: readonly NodeKeyCertificate[]; onNew?: (all: readonly NodeKeyCertificate[]) => void } = {}) {
    this.#caPublicKey = createPublicKey(new X509Certificate(caCertPem).publicKey.export({ format: 'pem', type: 'spki' }));
    for (const certificate of options.remembered ?? []) {
      if (this.#vouched(certificate)) this.#trusted.set(certificate.publicKey.toString('hex'), certificate);
    }
    this.#onNew = options.onNew;
  }

  /** Checks the CA's signature, then trusts the key; a forged certificate is refused as Forbidden. */
  admit(certificate: NodeKeyCertificate): void {
    if (!this.#vouched(certificate)) {
      throw new ShoalError('Forbidden', `the signing key of node ${certificate.node} is not signed by this cluster's CA`, { subject: 'node' });
    }
    const key = certificate.publicKey.toString('hex');
    if (this.#trusted.has(key)) return;
    this.#trusted.set(key, certificate);
    this.#onNew?.([...this.#trusted.values()]);
  }

  #vouched(certificate: NodeKeyCertificate): boolean {
    return verify('sha256', keyCertificateBytes(certificate.node, certificate.publicKey), this.#caPublicKey, certificate.signature);
  }

  has(publicKey: Buffer): boolean {
    return this.#trusted.has(publicKey.toString('hex'));
  }
}

/** The JSON form of certificates kept on disk (hex bytes); `parseRememberedKeys` reads it back, skipping what it cannot. */
export function rememberedKeysJson(all: readonly NodeKeyCertificate[]): string {
  return `${JSON.stringify(all.map((c) => ({ node: c.node, publicKey: c.publicKey.toString('hex'), signature: c.signature.toString('hex') })))}\n`;
}

export function parseRememberedKeys(text: string): NodeKeyCertificate[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return [];
  }
  if (!Array.isArray(raw)) return [];
  const certificates: NodeKeyCertificate[] = [];
  for (const entry of raw) {
    const { node, publicKey, signature } = (entry ?? {}) as Record<string, unknown>;
    if (typeof publicKey !== 'string' || typeof signature !== 'string') continue;
    try {
      certificates.push(parseNodeKeyCertificate({ node, publicKey: Buffer.from(publicKey, 'hex'), signature: Buffer.from(signature, 'hex') }));
    } catch {
      // a damaged entry: that key is announced again by its node's next walk
    }
  }
  return certificates;
}
