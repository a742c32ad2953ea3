// Goal: `shoal status` shows repair progress people can read: a bar that fills as the bytes to move shrink, an ETA
// from the rate, and a row that says when a node did not answer. Method: the formatting functions on fixed figures.
import test from 'ava';
import { formatEta, formatRepairTable, progressBar } from '../../../../gateway/cli/commands/repair-progress.js';

test('the bar fills as pending bytes shrink from the most pending since the move began', (t) => {
  t.is(progressBar(100, 100), '[....................]   0%');
  t.is(progressBar(25, 100), '[###############.....]  75%');
  t.is(progressBar(0, 0), '[####################] 100%');
});

test('the ETA is pending bytes over the rate, in readable units', (t) => {
  t.is(formatEta(0, 0), 'done');
  t.is(formatEta(1000, 0), '-');
  t.is(formatEta(5_000_000, 1_000_000), '5s');
  t.is(formatEta(600_000_000, 1_000_000), '10m');
});

test('the table lists every node, draining ones as such, and nodes that did not answer', (t) => {
  const text = formatRepairTable([
    { id: 'b', state: 'alive', status: undefined },
    {
      id: 'a', state: 'draining', status: {
        heldBlocks: 10, heldBytes: 2048, pendingBlocks: 10, pendingBytes: 2048, bytesPerSecond: 1024,
        copiedBytesTotal: 0, passes: 1, episodeBytes: 4096, draining: true,
      },
    },
  ]);
  const [header, first, second] = text.split('\n');
  t.regex(header!, /^ID\s+STATE\s+BLOCKS\s+HELD\s+TO MOVE\s+BYTES TO MOVE\s+RATE\s+ETA\s+PROGRESS$/);
  t.regex(first!, /^a\s+draining\s+10\s+2\.0 KiB\s+10\s+2\.0 KiB\s+1\.0 KiB\/s\s+2s\s+\[##########\.{10}\]\s+50%$/);
  t.regex(second!, /^b\s+alive\s+\?.*no answer$/);
});
