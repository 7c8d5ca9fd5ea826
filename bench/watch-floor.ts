/**
 * A process that only watches what the operator watches: the controller's informers, with the
 * operator's label selectors and trimming, over the operator's kubeconfig read as the operator
 * reads it, and nothing else (no reconcile, no writes, no logs, no metrics). The bench runs it
 * through a 100 x 5 run of its own and beside the idle operator; its CPU and memory are what a
 * Node.js process pays to keep those caches, the floor under the operator's.
 * Usage: node watch-floor.mjs <kubeconfig>. Writes "watching" on stdout once its caches are filled.
 */
import { controllerInformers } from '../src/controller/informers.js';
import { loadClusterAccess } from '../src/kube/cluster-access.js';
import { KubeHttp } from '../src/kube/http.js';

const kubeconfig = process.argv[2];
if (!kubeconfig) throw new Error('usage: watch-floor <kubeconfig>');
const http = new KubeHttp(await loadClusterAccess(kubeconfig));
const informers = Object.values(
  controllerInformers(http, undefined, {}) as unknown as Record<string, { start(): Promise<void> }>,
);
await Promise.all(informers.map((informer) => informer.start()));
process.stdout.write('watching\n');
process.on('SIGTERM', () => process.exit(0));
