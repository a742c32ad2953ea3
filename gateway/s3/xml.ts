// S3's XML bodies: one builder for every response (namespace on the root) and one parser for request bodies.
import { XMLBuilder, XMLParser } from 'fast-xml-parser';

export const S3_XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const builder = new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', suppressEmptyNode: false, format: false });

/** `{ Key: 'a', Contents: [{…}, {…}] }` → XML; arrays repeat their element; undefined fields are left out. */
export function renderXml(root: string, body: Record<string, unknown>, options: { xmlns?: boolean } = {}): string {
  const content = options.xmlns === false ? body : { '@_xmlns': S3_XMLNS, ...body };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${builder.build({ [root]: dropUndefined(content) }) as string}`;
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = dropUndefined(v);
  return out;
}

/**
 * Parses a request body; values stay strings (a key "007" must not become 7). Numeric character references are
 * decoded as XML requires: Go's encoder (rclone, any aws-sdk-go client) writes the quotes around an ETag as `&#34;`.
 * fast-xml-parser decodes them only under `htmlEntities`, which also accepts HTML's names (`&nbsp;`): lenient, harmless.
 */
export function parseXml(text: string, arrays: readonly string[]): Record<string, unknown> {
  const parser = new XMLParser({
    ignoreAttributes: true, parseTagValue: false, trimValues: false, processEntities: true, htmlEntities: true,
    isArray: (name) => arrays.includes(name),
  });
  return parser.parse(text, true) as Record<string, unknown>;
}
