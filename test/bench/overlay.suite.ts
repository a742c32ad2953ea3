// The overlay benchmark as a suite: the 10,000-node simulation beside the 1,000-node one from the same run,
// so each ratio says how a figure scales with the cluster size.
import { runOverlayBench, type OverlayBenchFigures } from './overlay.bench.js';
import type { Comparison, Metric, Suite } from './report.js';

function scaled(name: string, metric: Metric, large: OverlayBenchFigures, small: OverlayBenchFigures, pick: (f: OverlayBenchFigures) => number | undefined): Comparison[] {
  const value = pick(large);
  const baselineValue = pick(small);
  if (value === undefined || baselineValue === undefined) return [];
  return [{ figure: `${name}, ${large.nodes} nodes`, baseline: `${name}, ${small.nodes} nodes`, metric, value, baselineValue, ratio: value / baselineValue }];
}

export const overlaySuite: Suite = {
  name: 'overlay',
  description: 'gossip membership simulated at 10,000 nodes with 5 % message loss, beside 1,000 nodes',
  async run(context) {
    const result = await runOverlayBench({ quick: context.quick, log: context.log });
    const [small, large] = result.sizes;
    if (small === undefined || large === undefined) throw new Error('the overlay bench returned fewer than two sizes');
    const comparisons = [
      ...scaled('join seen by every node (simulated)', 'seconds', large, small, (f) => f.joinSeenByAllS),
      ...scaled('joiner knows every member (simulated)', 'seconds', large, small, (f) => f.joinerKnowsAllS),
      ...scaled('crash marked dead everywhere (simulated)', 'seconds', large, small, (f) => f.crashDeadEverywhereS),
      ...scaled('gossip bytes per node per second, steady', 'bytesPerSec', large, small, (f) => f.steadyBytesPerNodePerS),
      ...scaled('gossip bytes per node per second, join and crash', 'bytesPerSec', large, small, (f) => f.churnBytesPerNodePerS),
      ...scaled('memory per simulated node', 'bytes', large, small, (f) => f.clusterMemoryPerNodeBytes),
      ...scaled('membership state of one real node', 'bytes', large, small, (f) => f.singleNodeStateBytes),
    ];
    return { measurements: [], comparisons, notes: [...result.notes, `seed ${result.seed}; wall time ${small.wallS.toFixed(1)} s and ${large.wallS.toFixed(1)} s`] };
  },
};
