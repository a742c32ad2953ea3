// Goal: request bodies parse as XML defines them, whoever encoded them. Method: parseXml on bodies written the way Go's
// encoding/xml writes them (rclone's CompleteMultipartUpload: quotes as `&#34;`) and with named and hex references.
import test from 'ava';
import { parseXml } from '../../../../gateway/s3/xml.js';

test('numeric character references are decoded (Go writes the quotes of an ETag as &#34;)', (t) => {
  const body = '<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Part><ETag>&#34;2ab9f978b7177f7b73707e5d28be40dd&#34;</ETag><PartNumber>1</PartNumber></Part></CompleteMultipartUpload>';
  const parsed = parseXml(body, ['Part']) as { CompleteMultipartUpload: { Part: { ETag: string; PartNumber: string }[] } };
  t.deepEqual(parsed.CompleteMultipartUpload.Part, [{ ETag: '"2ab9f978b7177f7b73707e5d28be40dd"', PartNumber: '1' }]);
});

test('XML\'s named references and hex references are decoded', (t) => {
  const parsed = parseXml('<Delete><Object><Key>a&amp;b&lt;&gt;&quot;&apos;&#x2B;&#128512;</Key></Object></Delete>', ['Object']) as { Delete: { Object: { Key: string }[] } };
  t.is(parsed.Delete.Object[0]?.Key, 'a&b<>"\'+😀');
});
