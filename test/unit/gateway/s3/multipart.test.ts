// Goal: multipart requests route to their operations, the multipart ETag is AWS's, and the s3-keys block is read
// strictly. Method: routeS3 on hand-made requests; multipartEtag against an ETag computed by hand; decodeKeys on bytes.
import test from 'ava';
import { createHash } from 'node:crypto';
import { decodeKeys } from '../../../../gateway/s3/cluster-keys.js';
import { multipartEtag, parsePartNumber } from '../../../../gateway/s3/handlers/multipart.js';
import { routeS3 } from '../../../../gateway/s3/router.js';

const route = (method: string, rawPath: string, query: [string, string][], copySource?: string) =>
  routeS3({ method, rawPath, query, host: '127.0.0.1:9000', copySource }, []);

test('multipart requests route to their operations', (t) => {
  t.is(route('POST', '/b/k', [['uploads', '']]).op, 'CreateMultipartUpload');
  t.is(route('PUT', '/b/k', [['partNumber', '2'], ['uploadId', 'u']]).op, 'UploadPart');
  t.is(route('PUT', '/b/k', [['partNumber', '2'], ['uploadId', 'u']], 'src/key').op, 'UploadPartCopy');
  t.is(route('POST', '/b/k', [['uploadId', 'u']]).op, 'CompleteMultipartUpload');
  t.is(route('DELETE', '/b/k', [['uploadId', 'u']]).op, 'AbortMultipartUpload');
  t.is(route('GET', '/b/k', [['uploadId', 'u']]).op, 'ListParts');
  t.is(route('GET', '/b', [['uploads', '']]).op, 'ListMultipartUploads');
  t.throws(() => route('GET', '/b/k', [['partNumber', '1']]), { message: /not implemented/ });
});

test('the multipart ETag is the MD5 of the parts\' binary MD5s, then -N', (t) => {
  const parts = ['a', 'b'].map((s) => createHash('md5').update(s).digest());
  const expected = createHash('md5').update(Buffer.concat(parts)).digest('hex');
  t.is(multipartEtag(parts.map((p) => p.toString('hex'))), `${expected}-2`);
});

test('part numbers are 1 to 10000', (t) => {
  t.is(parsePartNumber('10000'), 10000);
  for (const bad of ['0', '10001', '-1', '1.5', '', undefined]) t.throws(() => parsePartNumber(bad), { message: /Part number/ });
});

test('a malformed s3-keys block is an error, not an empty key list', (t) => {
  t.deepEqual(decodeKeys(Buffer.from('{"v":1,"keys":[{"id":"SK1","secret":"s","user":"u","createdMs":1}]}')), [{ id: 'SK1', secret: 's', user: 'u', createdMs: 1 }]);
  t.throws(() => decodeKeys(Buffer.from('nope')), { message: /malformed/ });
  t.throws(() => decodeKeys(Buffer.from('{"v":2,"keys":[]}')), { message: /format version/ });
  t.throws(() => decodeKeys(Buffer.from('{"v":1,"keys":[{"id":"SK1"}]}')), { message: /without/ });
});
