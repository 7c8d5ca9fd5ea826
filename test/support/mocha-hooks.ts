import { stopSharedControlPlane } from './shared-control-plane.js';

export const mochaHooks = {
  async afterAll(): Promise<void> {
    await stopSharedControlPlane();
  },
};
