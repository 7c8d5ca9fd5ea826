import { Type } from '@sinclair/typebox';
import { Obj, NamedMap, FreeObject } from '../schema-kit.js';
import { ExecutionOverlay } from './execution.js';
import { BudgetsOverlay } from './budgets.js';

export const EnvironmentOverlay = Obj(
  'Settings deep-merged over the spec when spec.environment names this environment.',
  {
    execution: Type.Optional(ExecutionOverlay),
    budgets: Type.Optional(BudgetsOverlay),
    agents: Type.Optional(
      NamedMap(
        'Per-agent overrides by stage or agent name.',
        Obj('Overrides for one agent.', {
          config: Type.Optional(
            FreeObject('Merged over the agent configuration (for a stage, its config.parameters).'),
          ),
        }),
      ),
    ),
  },
);

export const Environments = NamedMap(
  'Named environment overlays (development, production, testing, ...).',
  EnvironmentOverlay,
  16,
);
