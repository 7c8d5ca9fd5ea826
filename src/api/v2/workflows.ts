import { Type } from '@sinclair/typebox';
import {
  Obj,
  StringEnum,
  Int,
  Duration,
  Name,
  NamedList,
  StrList,
  FreeObject,
  positiveDuration,
} from '../schema-kit.js';
import { ErrorClass } from './error-class.js';

export const STEP_ACTIONS = ['run', 'terminate'] as const;

export const Step = Obj(
  'A workflow step: runs an agent (action run) or stops the run (action terminate).',
  {
    name: Name('Name of the step, unique in its workflow.'),
    agent: Type.Optional(Name('Agent that runs this step: a pipeline stage or a spec.agents.core entry.')),
    action: Type.Optional(StringEnum('What the step does; run by default.', STEP_ACTIONS)),
    timeout: Type.Optional(Duration('Deadline of the step.')),
    config: Type.Optional(FreeObject('Settings for the agent in this step, e.g. useCache: true.')),
    notify: Type.Optional(
      StrList('Targets told when the step runs, e.g. security_team.', Name('A target.'), 16),
    ),
  },
  {
    celRules: [
      positiveDuration('timeout'),
      {
        rule: "(has(self.action) && self.action == 'terminate') || has(self.agent)",
        message: 'a step needs agent unless its action is terminate',
        fieldPath: '.agent',
        reason: 'FieldValueRequired',
      },
    ],
  },
);

const Steps = NamedList('The steps, in order, each with a unique name.', Step, 32);

export const Trigger = Obj('When a workflow takes over.', {
  conditions: StrList('Error classes that count towards the trigger.', ErrorClass, 16),
  threshold: Type.Optional(
    Int('Failures of those classes before the workflow takes over; 1 by default.', {
      minimum: 1,
      maximum: 100,
    }),
  ),
});

export const Workflows = Obj('The main workflow and the ones that take over when it fails.', {
  main: Type.Optional(
    Obj('The main workflow; without steps, spec.agents.pipeline is the main workflow.', {
      steps: Type.Optional(Steps),
    }),
  ),
  fallback: Type.Optional(
    Obj('Runs instead of the main workflow once its trigger is reached.', { trigger: Trigger, steps: Steps }),
  ),
  emergency: Type.Optional(
    Obj('Stops everything at once when an error of its classes occurs.', { trigger: Trigger, steps: Steps }),
  ),
});
