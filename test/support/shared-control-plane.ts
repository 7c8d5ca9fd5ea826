/**
 * One control plane for the whole mocha run: started by the first integration suite that asks
 * for it, stopped by the root afterAll hook (mocha-hooks.ts) even when tests fail.
 */
import { ControlPlane } from '../../hack/local-cluster/control-plane.js';

let shared: Promise<ControlPlane> | undefined;

export function sharedControlPlane(): Promise<ControlPlane> {
  shared ??= ControlPlane.start();
  return shared;
}

export async function stopSharedControlPlane(): Promise<void> {
  if (!shared) return;
  const started = shared;
  shared = undefined;
  const plane = await started.catch(() => undefined);
  await plane?.stop();
}
