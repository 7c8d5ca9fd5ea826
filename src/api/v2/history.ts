import { Type } from '@sinclair/typebox';
import { Duration, Int, Obj } from '../schema-kit.js';

/** Finished runs whose Jobs are kept when spec.history.limit is not set (CronJob keeps 3 successful Jobs). */
export const DEFAULT_HISTORY_LIMIT = 3;

export const History = Obj(
  "How long the Jobs of finished runs are kept (CronJob's history limits are the model). A run's outcome, outputs and usage stay in status; removing its Jobs also removes their Pods and logs. While the operator runs, an agent's circuit breaker remembers the failures of removed Jobs; a Job whose infrastructure failure still holds its agent's breaker open is kept until the breaker's reset timeout has passed, so a restarted operator sees the same breaker.",
  {
    limit: Type.Optional(
      Int(
        "Finished runs of this runbook whose Jobs are kept, the newest first; the current run counts once it has finished. 0 removes a run's Jobs as soon as it has finished.",
        { minimum: 0, maximum: 100, default: DEFAULT_HISTORY_LIMIT },
      ),
    ),
    ttlAfterFinished: Type.Optional(
      Duration('The Jobs of a finished run are removed this long after it finished, whatever the limit.'),
    ),
  },
);
