import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse } from 'yaml';
import { repoRoot } from '../../../hack/local-cluster/paths.js';
import { promqlMetricNames } from '../../support/promql.js';

const prometheusDir = () => {
  const result = spawnSync('bash', [join(repoRoot, 'hack', 'prometheus.sh')], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`hack/prometheus.sh failed: ${result.stderr}`);
  return result.stdout.trim();
};

describe('the standard alerts and the dashboard', function () {
  this.timeout(120_000);

  it('promtool finds the rules valid and their tests (config/prometheus/alert-rules.test.yaml) pass', () => {
    const promtool = join(prometheusDir(), 'promtool');
    const check = spawnSync(promtool, ['check', 'rules', 'config/prometheus/alert-rules.yaml'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(check.status, check.stdout + check.stderr).to.equal(0);
    const test = spawnSync(promtool, ['test', 'rules', 'config/prometheus/alert-rules.test.yaml'], {
      cwd: repoRoot,
      encoding: 'utf8',
    });
    expect(test.status, test.stdout + test.stderr).to.equal(0);
    expect(test.stdout).to.contain('SUCCESS');
  });

  it('tests every alert it defines', () => {
    const rules = parse(readFileSync(join(repoRoot, 'config/prometheus/alert-rules.yaml'), 'utf8')) as {
      groups: { rules: { alert: string }[] }[];
    };
    const tests = parse(readFileSync(join(repoRoot, 'config/prometheus/alert-rules.test.yaml'), 'utf8')) as {
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
    };
    const fired = new Set(
      tests.tests.flatMap((test) =>
        test.alert_rule_test.filter((each) => each.exp_alerts.length > 0).map((each) => each.alertname),
      ),
    );
    const alerts = rules.groups.flatMap((group) => group.rules.map((rule) => rule.alert));
    expect(alerts).to.include.members([
      'AgentRunbookOperatorDown',
      'AgentRunbookReconcileErrors',
      'AgentRunbookRunsFailing',
      'AgentRunbookBudgetExhausted',
      'AgentRunbookCircuitOpen',
      'AgentRunbookWebhookErrors',
    ]);
    expect(
      alerts.filter((alert) => !fired.has(alert)),
      'alerts no test fires',
    ).to.deep.equal([]);
  });

  it('reads metric names out of PromQL', () => {
    expect(
      promqlMetricNames(
        'histogram_quantile(0.99, sum by (webhook, le) (rate(controller_runtime_webhook_latency_seconds_bucket{webhook=~"a|b"}[5m]))) > 2',
      ),
    ).to.deep.equal(['controller_runtime_webhook_latency_seconds_bucket']);
    expect(promqlMetricNames('absent(up{job="x"} == 1) or vector(0)')).to.deep.equal(['up']);
    expect(promqlMetricNames('a / on (x) group_left b offset 5m')).to.deep.equal(['a', 'b']);
  });
});
