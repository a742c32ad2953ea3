// Prometheus metrics of one storage node, served on /metrics.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';

export class NodeMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({ name: 'shoal_wire_requests_total', help: 'Wire requests served, by operation and outcome', labelNames: ['op', 'outcome'], registers: [this.registry] });
  readonly wireBytes = new Counter({ name: 'shoal_wire_bytes_total', help: 'Wire bytes, by direction', labelNames: ['direction'], registers: [this.registry] });
  readonly storeUsedBytes = new Gauge({ name: 'shoal_store_used_bytes', help: 'Bytes of blocks held', registers: [this.registry] });
  readonly storeCapacityBytes = new Gauge({ name: 'shoal_store_capacity_bytes', help: 'Capacity given to this node', registers: [this.registry] });
  readonly storeBlocks = new Gauge({ name: 'shoal_store_blocks', help: 'Blocks held', registers: [this.registry] });
  readonly gossipBytes = new Counter({ name: 'shoal_gossip_bytes_total', help: 'Overlay message bytes, by direction', labelNames: ['direction'], registers: [this.registry] });
  readonly membershipEvents = new Counter({ name: 'shoal_membership_changes_total', help: 'Member record changes seen, by new state', labelNames: ['state'], registers: [this.registry] });
  readonly members = new Gauge({ name: 'shoal_members', help: 'Members known, by state', labelNames: ['state'], registers: [this.registry] });

  readonly repairBlocksPending = new Gauge({ name: 'shoal_repair_blocks_pending', help: 'Blocks this node still has to copy elsewhere or drop once copied', registers: [this.registry] });
  readonly repairBytesPending = new Gauge({ name: 'shoal_repair_bytes_pending', help: 'Bytes of the blocks still to move', registers: [this.registry] });
  readonly repairBytes = new Counter({ name: 'shoal_repair_bytes_total', help: 'Bytes copied to other nodes by repair', registers: [this.registry] });
  readonly repairBlocksCopied = new Counter({ name: 'shoal_repair_blocks_copied_total', help: 'Block copies made by repair', registers: [this.registry] });
  readonly repairBlocksDropped = new Counter({ name: 'shoal_repair_blocks_dropped_total', help: 'Local copies dropped once every placed node held the block', registers: [this.registry] });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'shoal_process_' });
  }
}

export async function serveMetrics(metrics: NodeMetrics, host: string, port: number, refresh: () => void): Promise<{ server: Server; address: AddressInfo }> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: metrics are at /metrics\n');
      return;
    }
    refresh();
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
      (err: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${err.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return { server, address: server.address() as AddressInfo };
}
