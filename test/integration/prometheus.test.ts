import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { parse, stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { ManagedProcess } from '../../hack/local-cluster/managed-process.js';
import { repoRoot } from '../../hack/local-cluster/paths.js';
import { freePort } from '../../hack/local-cluster/ports.js';
import { eventually } from '../support/eventually.js';
import { familyOf, promqlMetricNames } from '../support/promql.js';
import { RunbookEnv, runbook } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';

const CATALOG: AgentCatalog = { agents: [{ name: 'a', image: 'registry.example/agents/a:1' }] };
const RULES = join(repoRoot, 'config', 'prometheus', 'alert-rules.yaml');
const DASHBOARD = join(repoRoot, 'config', 'grafana', 'agentrunbook-dashboard.json');
/** Metrics Prometheus makes itself rather than scraping. */
const SYNTHETIC = new Set(['up']);

interface Dashboard {
  panels: { title: string; targets: { expr: string }[] }[];
}

function queries(): { where: string; expr: string }[] {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
  const rules = (
    parse(readFileSync(RULES, 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] }
  ).groups.flatMap((group) => group.rules);
  return [
    ...dashboard.panels.flatMap((panel) =>
      panel.targets.map((target) => ({ where: `panel ${panel.title}`, expr: target.expr })),
    ),
    ...rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr })),
  ];
}

describe('monitoring: the dashboard and alert rules against the operator’s /metrics, and a real Prometheus', function () {
  this.timeout(180_000);
  const env = new RunbookEnv('prometheus', CATALOG);
  const scrape = async () =>
    (await fetch(`http://127.0.0.1:${String(env.operator?.metricsPort)}/metrics`)).text();

  before(() => env.start());
  after(() => env.stop());

  it('every query of the Grafana dashboard and of the alert rules names a metric found on /metrics', async () => {
    await env.apply(runbook('seen', 'pipeline', [{ name: 'a' }]));
    await env.waitPhase('seen', 'Succeeded');
    const families = new Set(
      (await scrape())
        .split('\n')
        .filter((line) => line.startsWith('# TYPE '))
        .map((line) => line.split(' ')[2] ?? ''),
    );
    const missing = queries().flatMap(({ where, expr }) =>
      promqlMetricNames(expr)
        .filter((name) => !SYNTHETIC.has(name) && !families.has(name) && !families.has(familyOf(name)))
        .map((name) => `${where}: ${name}`),
    );
    expect(missing).to.deep.equal([]);
    expect(queries().length).to.be.greaterThan(20);
  });

  it('a real Prometheus scrapes the operator and evaluates the standard alerts: a failed run makes AgentRunbookRunsFailing pending', async () => {
    const dir = spawnSync('bash', [join(repoRoot, 'hack', 'prometheus.sh')], { encoding: 'utf8' });
    expect(dir.status, dir.stderr).to.equal(0);
    const work = mkdtempSync(join(tmpdir(), 'prometheus-'));
    const config = join(work, 'prometheus.yaml');
    writeFileSync(
      config,
      stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s' },
        rule_files: [RULES],
        scrape_configs: [
          {
            job_name: 'agentrunbook-operator-metrics',
            static_configs: [{ targets: [`127.0.0.1:${String(env.operator?.metricsPort)}`] }],
          },
        ],
      }),
    );
    const port = await freePort();
    const prometheus = new ManagedProcess(
      'prometheus',
      join(dir.stdout.trim(), 'prometheus'),
      [
        `--config.file=${config}`,
        `--storage.tsdb.path=${join(work, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      port,
      join(work, 'prometheus.log'),
    );
    const api = async <T>(path: string): Promise<T> => {
      const response = await fetch(`http://127.0.0.1:${port}/api/v1/${path}`);
      const body = (await response.json()) as { status: string; data: T };
      expect(body.status).to.equal('success');
      return body.data;
    };
    const query = (promql: string) =>
      api<{ result: { metric: Record<string, string>; value: [number, string] }[] }>(
        `query?query=${encodeURIComponent(promql)}`,
      );
    try {
      const ns = env.namespace;
      await eventually(async () => {
        const up = await query('up{job="agentrunbook-operator-metrics"}');
        expect(up.result.map((sample) => sample.value[1])).to.deep.equal(['1']);
        // The namespace's counters exist at 0 before anything fails, so increase() sees the failure.
        const failed = await query(`agentrunbook_runs_finished_total{namespace="${ns}",phase="Failed"}`);
        expect(failed.result.map((sample) => sample.value[1])).to.deep.equal(['0']);
      }, 60_000);
      env.script = () => ({
        phase: 'Failed',
        message: JSON.stringify({ error: { class: 'CRITICAL_ERROR' } }),
      });
      await env.apply(runbook('broken', 'pipeline', [{ name: 'a' }]));
      await env.waitPhase('broken', 'Failed');
      env.script = () => succeed();
      await eventually(async () => {
        const alerts = await api<{ alerts: { labels: Record<string, string>; state: string }[] }>('alerts');
        const failing = alerts.alerts.find(
          (alert) => alert.labels.alertname === 'AgentRunbookRunsFailing' && alert.labels.namespace === ns,
        );
        expect(failing?.state).to.be.oneOf(['pending', 'firing']);
        expect(alerts.alerts.map((alert) => alert.labels.alertname)).to.not.include(
          'AgentRunbookOperatorDown',
        );
      }, 60_000);
      const rules = await api<{
        groups: { rules: { name: string; health: string; lastError?: string }[] }[];
      }>('rules');
      const unhealthy = rules.groups
        .flatMap((group) => group.rules)
        .filter((rule) => rule.health !== 'ok')
        .map((rule) => `${rule.name}: ${rule.health} ${rule.lastError ?? ''}`);
      expect(unhealthy).to.deep.equal([]);
      const attempts = await query(
        'sum(agentrunbook_stage_attempts_total{result="failed",error_class="CRITICAL_ERROR"})',
      );
      expect(Number(attempts.result[0]?.value[1])).to.be.at.least(1);
    } finally {
      await prometheus.stop();
    }
  });
});
