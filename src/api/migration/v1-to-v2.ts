/**
 * v1 (the 1.0 layout) to v2, and back, as data: the specification's migration_1_0_to_2_0 and its
 * inverse. The conversion webhook runs these; what one version cannot hold travels in an
 * annotation (see ../conversion.ts).
 */
import type { MigrationScript } from './engine.js';
import { TOP_LEVEL_SETTINGS } from '../v1/runbook.js';

export const V1_TO_V2: MigrationScript = {
  from: 'i2s.studio/v1',
  to: 'i2s.studio/v2',
  transformations: [
    { type: 'rename', path: 'spec.agents.*.timeout', newPath: 'spec.agents.*.config.timeout' },
    // The rest of the 1.0.0 layout's top-level settings move the same way; back in v1 they sit
    // under config, and the conversion's annotation puts those a user wrote on top back there.
    ...TOP_LEVEL_SETTINGS.map((setting) => ({
      type: 'rename' as const,
      path: `spec.agents.*.${setting}`,
      newPath: `spec.agents.*.config.${setting}`,
    })),
    { type: 'move', path: 'spec.agents', newPath: 'spec.agents.pipeline' },
    { type: 'modify', path: 'spec.agents.pipeline', operation: 'mapToList', key: 'name' },
    {
      type: 'add',
      path: 'spec.execution.parallelism',
      value: 5,
      condition: '!has(spec.execution) || !has(spec.execution.parallelism)',
    },
    { type: 'delete', path: 'spec.legacy' },
  ],
};

export const V2_TO_V1: MigrationScript = {
  from: 'i2s.studio/v2',
  to: 'i2s.studio/v1',
  transformations: [
    { type: 'delete', path: 'spec.execution.parallelism' },
    { type: 'modify', path: 'spec.agents.pipeline', operation: 'listToMap', key: 'name' },
    { type: 'add', path: 'spec.agents.pipeline', value: {} },
    { type: 'move', path: 'spec.agents.pipeline', newPath: 'spec.agents' },
    { type: 'rename', path: 'spec.agents.*.config.timeout', newPath: 'spec.agents.*.timeout' },
  ],
};
