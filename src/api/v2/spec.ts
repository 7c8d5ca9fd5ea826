/** The AgentRunbook v2 spec, apart from the resource root (runbook.ts) that adds the status to it. */
import { Type } from '@sinclair/typebox';
import { Obj, Str, StrList, SemVer, Name, Bool, StringEnum, Int, NamedList } from '../schema-kit.js';
import { Workspace } from './workspaces.js';
import { TEMPLATE_KIND_NAMES } from '../group.js';
import { Context, Author, Created } from './context.js';
import { Execution, RetryStrategies } from './execution.js';
import { Budgets } from './budgets.js';
import { Quality } from './quality.js';
import { Agents } from './agents.js';
import { Workflows } from './workflows.js';
import { Monitoring } from './monitoring.js';
import { Environments } from './environments.js';
import { History } from './history.js';

export const DEFAULT_REVISION_HISTORY_LIMIT = 10;

/** What spec.status may ask of a run (Tekton's PipelineRun spec.status is the model). */
const RUN_REQUESTS = ['Cancelled'] as const;

/** What a runbook made from a template (spec.template) may set itself; the rest comes from the template. */
export const TEMPLATE_RUNBOOK_FIELDS = [
  'version',
  'description',
  'tags',
  'context',
  'suspend',
  'status',
  'history',
  'template',
  'revisionHistoryLimit',
  'budgets',
] as const;

export const TemplateRef = Obj(
  'Make this runbook from a template: the named one, or the one whose rules (spec.selector) select spec.context. The operator resolves it once per generation and keeps the result in status.template, so a template changed later never changes a run. Such a runbook sets only version, description, tags, context, suspend, status, history, template, revisionHistoryLimit and budgets (which cap those of the template: each limit is the smaller of the two); its agents and the rest come from the template.',
  {
    name: Type.Optional(Name('The template; without it one is selected from spec.context.')),
    kind: Type.Optional(
      StringEnum(
        'Where to look: AgentRunbookTemplate (this namespace), ClusterAgentRunbookTemplate, or both when absent (a namespaced template shadows a cluster one of the same name).',
        TEMPLATE_KIND_NAMES,
      ),
    ),
  },
);

/** The fields every API version shares: what the runbook is, where it comes from, suspend and cancel. */
export const RUNBOOK_IDENTITY = {
  version: SemVer('Version of this runbook.'),
  description: Type.Optional(Str('What the runbook does.', { maxLength: 4096 })),
  tags: Type.Optional(StrList('Categorization tags.', Str('A tag.', { maxLength: 63 }), 32)),
  created: Type.Optional(Created),
  author: Type.Optional(Author),
  context: Type.Optional(Context),
  environment: Type.Optional(Name('Entry of spec.environments whose overlay applies to this run.')),
  suspend: Type.Optional(Bool('While true, no new stage starts; running stages finish.')),
  status: Type.Optional(
    StringEnum(
      'Cancelled stops the run: its running Jobs are deleted, the stages not yet run are skipped, and the phase becomes Cancelled (outputs and usage so far are kept). Removing it starts a fresh run.',
      RUN_REQUESTS,
    ),
  ),
};

export const Spec = Obj(
  'The desired run: agents, how they are scheduled, and the guardrails around them.',
  {
    ...RUNBOOK_IDENTITY,
    execution: Type.Optional({ ...Execution, default: {} }),
    retryStrategies: Type.Optional(RetryStrategies),
    budgets: Type.Optional(Budgets),
    quality: Type.Optional(Quality),
    agents: Agents,
    workspaces: Type.Optional(
      NamedList(
        'Storage the stages that name it share (as Tekton workspaces): a claim made per run, an existing claim, or an emptyDir for one stage.',
        Workspace,
        16,
      ),
    ),
    workflows: Type.Optional(Workflows),
    monitoring: Type.Optional(Monitoring),
    environments: Type.Optional(Environments),
    history: Type.Optional({ ...History, default: {} }),
    template: Type.Optional(TemplateRef),
    revisionHistoryLimit: Type.Optional(
      Int(
        `How many revisions of this spec (ControllerRevisions) to keep for history and rollback, the current one included; ${DEFAULT_REVISION_HISTORY_LIMIT} by default.`,
        { minimum: 1, maximum: 100 },
      ),
    ),
  },
  {
    celRules: [
      {
        rule: '!has(self.environment) || (has(self.environments) && self.environment in self.environments)',
        messageExpression: "'environment ' + self.environment + ' is not defined in spec.environments'",
        fieldPath: '.environment',
      },
      {
        rule: '!has(self.execution) || !has(self.execution.retryStrategy) || (has(self.retryStrategies) && self.execution.retryStrategy in self.retryStrategies)',
        messageExpression:
          "'retryStrategy ' + self.execution.retryStrategy + ' is not defined in spec.retryStrategies'",
        fieldPath: '.execution.retryStrategy',
      },
      {
        rule: '!has(self.agents.pipeline) || self.agents.pipeline.all(s, !has(s.config) || !has(s.config.retryStrategy) || (has(self.retryStrategies) && s.config.retryStrategy in self.retryStrategies))',
        message: 'a stage config.retryStrategy is not defined in spec.retryStrategies',
        fieldPath: '.agents.pipeline',
      },
      {
        rule: '!has(self.quality) || !has(self.quality.gates) || self.quality.gates.all(g, !has(g.before) || (has(self.agents.pipeline) && self.agents.pipeline.exists(s, s.name == g.before)))',
        message: 'a quality gate names in before a stage that is not in spec.agents.pipeline',
        fieldPath: '.quality.gates',
      },
    ],
  },
);
