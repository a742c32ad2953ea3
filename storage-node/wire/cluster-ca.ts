// The cluster's certificate authority (node-forge): it signs the certificate of every node, gateway and
// client, and mutual TLS admits only holders of such certificates.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';
import type { TlsCredentials } from './tls-credentials.js';

export interface ClusterCa {
  readonly keyPem: string;
  readonly certPem: string;
}

export type CertificateRole = 'node' | 'gateway' | 'client';

const CA_YEARS = 20;
const LEAF_YEARS = 5;

// RSA keys come from node:crypto (native, milliseconds) rather than forge's pure-JS generator (~0.3 s each).
function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey; pem: string } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem);
  return { privateKey: forgeKey, publicKey: forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e), pem };
}

function serialNumber(): string {
  // Positive 16-byte serial: the high bit cleared so DER does not read it as negative.
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] as number) & 0x7f;
  return bytes.toString('hex');
}

function validity(cert: forge.pki.Certificate, years: number): void {
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 60 * 60 * 1000); // an hour of clock skew
  cert.validity.notAfter = new Date(now.getTime() + years * 365 * 24 * 3600 * 1000);
}

export function createClusterCa(clusterName: string): ClusterCa {
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, CA_YEARS);
  const subject = [{ name: 'commonName', value: `Shoal cluster CA ${clusterName}` }, { name: 'organizationName', value: 'Shoal' }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(keys.privateKey, forge.md.sha256.create());
  return { keyPem: keys.pem, certPem: forge.pki.certificateToPem(cert) };
}

/** Issues a leaf certificate whose common name is the holder's id; returns ready-to-use TLS credentials. */
export function issueCertificate(ca: ClusterCa, commonName: string, role: CertificateRole): TlsCredentials {
  const caCert = forge.pki.certificateFromPem(ca.certPem);
  const caKey = forge.pki.privateKeyFromPem(ca.keyPem);
  const keys = rsaKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  cert.serialNumber = serialNumber();
  validity(cert, LEAF_YEARS);
  cert.setSubject([{ name: 'commonName', value: commonName }, { name: 'organizationalUnitName', value: role }, { name: 'organizationName', value: 'Shoal' }]);
  cert.setIssuer(caCert.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    { name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { key: keys.pem, cert: forge.pki.certificateToPem(cert), ca: ca.certPem };
}
