// The cluster directory made by `shoal cluster init`: the CA, the admin identity, and credentials issued
// from them. It holds secrets: files are written owner-only.
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ShoalError } from '../base/errors.js';
import { identityFromSeed, type Identity } from '../blocks/sign.js';
import { systemEntropy } from '../system.js';
import { createClusterCa, issueCertificate, type CertificateRole, type ClusterCa } from '../wire/cluster-ca.js';
import type { TlsCredentials } from '../wire/tls-credentials.js';

export interface ClusterInfo {
  readonly name: string;
  readonly id: string;
  readonly createdAt: string;
}

const SECRET = { mode: 0o600 } as const;

export async function initClusterDir(dir: string, name: string): Promise<ClusterInfo> {
  if (existsSync(join(dir, 'cluster.json'))) {
    throw new ShoalError('Exists', `${dir} already holds a cluster; use it as it is, or pick another --dir`, { subject: 'config' });
  }
  await mkdir(join(dir, 'credentials'), { recursive: true, mode: 0o700 });
  const ca = createClusterCa(name);
  const seed = systemEntropy.bytes(32);
  const info: ClusterInfo = { name, id: systemEntropy.bytes(8).toString('hex'), createdAt: new Date().toISOString() };
  await writeFile(join(dir, 'ca.key'), ca.keyPem, SECRET);
  await writeFile(join(dir, 'ca.crt'), ca.certPem);
  await writeFile(join(dir, 'admin.key'), `${seed.toString('hex')}\n`, SECRET);
  await writeFile(join(dir, 'admin.pub'), `${identityFromSeed(seed).publicKey.toString('hex')}\n`);
  await writeFile(join(dir, 'cluster.json'), `${JSON.stringify(info, null, 2)}\n`);
  return info;
}

export function hasClusterDir(dir: string): boolean {
  return existsSync(join(dir, 'cluster.json'));
}

async function readRequired(dir: string, file: string): Promise<string> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch {
    throw new ShoalError('NotFound', `${join(dir, file)} is missing: run \`shoal cluster init --dir ${dir}\` first, or point --dir at the cluster directory`, { subject: 'config' });
  }
}

export async function readClusterInfo(dir: string): Promise<ClusterInfo> {
  return JSON.parse(await readRequired(dir, 'cluster.json')) as ClusterInfo;
}

export async function readClusterCa(dir: string): Promise<ClusterCa> {
  return { keyPem: await readRequired(dir, 'ca.key'), certPem: await readRequired(dir, 'ca.crt') };
}

export async function readAdminIdentity(dir: string): Promise<Identity> {
  const hex = (await readRequired(dir, 'admin.key')).trim();
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new ShoalError('Invalid', `${join(dir, 'admin.key')} is not a 32-byte hex seed`, { subject: 'config' });
  return identityFromSeed(Buffer.from(hex, 'hex'));
}

/** Credentials for a CLI or gateway named `name`, issued once from the cluster CA and kept in the directory. */
export async function clientCredentials(dir: string, name: string, role: CertificateRole = 'client'): Promise<TlsCredentials> {
  const keyPath = join(dir, 'credentials', `${name}.key`);
  const certPath = join(dir, 'credentials', `${name}.crt`);
  const ca = await readClusterCa(dir);
  if (existsSync(keyPath) && existsSync(certPath)) {
    return { key: await readFile(keyPath, 'utf8'), cert: await readFile(certPath, 'utf8'), ca: ca.certPem };
  }
  const issued = issueCertificate(ca, `${role}:${name}`, role);
  await mkdir(join(dir, 'credentials'), { recursive: true, mode: 0o700 });
  await writeFile(keyPath, issued.key, SECRET);
  await writeFile(certPath, issued.cert);
  return issued;
}
