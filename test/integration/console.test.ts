import { expect } from 'chai';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { stringify } from 'yaml';
import type { AgentCatalog } from '../../src/api/catalog.js';
import { ENV } from '../../src/api/agent-contract.js';
import { writeReport } from '../../src/agent/sdk.js';
import type { PodResult } from '../../hack/local-cluster/fake-node.js';
import { kubectl } from '../../hack/local-cluster/tools.js';
import { launchBrowser } from '../support/browser.js';
import {
  openPage,
  screenshot,
  screenshotDir,
  startConsoleFor,
  type ConsoleUser,
} from '../support/console-users.js';
import { prodReviewPolicy, RunbookEnv, runbook } from '../support/runbook-env.js';
import { succeed } from '../support/scripted-agents.js';
import { eventually } from '../support/eventually.js';

const CATALOG: AgentCatalog = {
  agents: ['researcher', 'writer', 'reviewer'].map((name) => ({
    name,
    image: `registry.example/agents/${name}:1.0.0`,
  })),
};

/** An agent's report as the SDK leaves it: large outputs go to the log, read through the API server. */
function reported(outputs: Record<string, unknown>): PodResult {
  const reportPath = join(mkdtempSync(join(tmpdir(), 'console-report-')), 'termination-log');
  const lines: string[] = [];
  writeReport(
    { outputs, usage: { tokens: 1200, costUSD: '0.03' } },
    { [ENV.reportPath]: reportPath },
    (line) => lines.push(line),
  );
  return { phase: 'Succeeded', message: readFileSync(reportPath, 'utf8'), logs: `${lines.join('\n')}\n` };
}

describe('the web console in a real browser, on a real control plane with the operator (webhook, RBAC)', function () {
  this.timeout(240_000);
  const env = new RunbookEnv('console', CATALOG, { webhook: true });
  const shots = screenshotDir(mkdtempSync(join(tmpdir(), 'console-shots-')));
  let browser: Browser;
  let alice: ConsoleUser;
  let mallory: ConsoleUser;
  let carol: ConsoleUser;
  /** The Pod of `runbook` the fake node holds (besides `other`): it holds one a moment after reporting it Running. */
  const heldPod = (runbook: string, other?: string) =>
    eventually(() => {
      const pod = env.held(runbook).find((candidate) => candidate !== other);
      if (!pod) throw new Error(`the fake node holds no Pod of ${runbook} yet`);
      return Promise.resolve(pod);
    });
  const runUrl = (user: ConsoleUser, name: string) => `${user.console.url}#/run/${env.namespace}/${name}`;

  before(async () => {
    await env.start();
    const rbac = 'rbac.authorization.k8s.io';
    const bind = (user: string, role: string) => ({
      apiVersion: `${rbac}/v1`,
      kind: 'RoleBinding',
      metadata: { name: `${role}-${user}`, namespace: env.namespace },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: role },
      subjects: [{ apiGroup: rbac, kind: 'User', name: user }],
    });
    // alice approves; mallory edits runbooks but may not approve; carol writes runbooks and approves.
    const objects = [bind('alice', 'agentrunbook-approver'), bind('carol', 'agentrunbook-approver')];
    const applied = await kubectl(
      env.plane.adminKubeconfigPath,
      ['apply', '-f', '-'],
      objects.map((object) => stringify(object)).join('---\n'),
    );
    expect(applied.code, applied.stderr).to.equal(0);
    // What the run page reads besides runbooks and Events, as the built-in view role grants it.
    await env.grant(
      'console-reader',
      [
        { apiGroups: [''], resources: ['pods', 'pods/log', 'configmaps'], verbs: ['get', 'list', 'watch'] },
        { apiGroups: ['apps'], resources: ['controllerrevisions'], verbs: ['get', 'list', 'watch'] },
      ],
      ['alice', 'mallory', 'carol'],
    );
    await env.grant(
      'runbook-writer',
      [
        {
          apiGroups: ['i2s.studio'],
          resources: ['agentrunbooks'],
          verbs: ['get', 'list', 'watch', 'create', 'patch', 'update'],
        },
        { apiGroups: ['i2s.studio'], resources: ['gatedecisions'], verbs: ['create'] },
        { apiGroups: ['i2s.studio'], resources: ['agentrunbooktemplates'], verbs: ['get', 'list'] },
      ],
      ['mallory', 'carol'],
    );
    [alice, mallory, carol] = await Promise.all([
      startConsoleFor(env, 'alice'),
      startConsoleFor(env, 'mallory'),
      startConsoleFor(env, 'carol'),
    ]);
    browser = await launchBrowser();
  });

  after(async () => {
    await browser.close();
    await Promise.all([alice, mallory, carol].map((user) => user.console.server.close()));
    await env.stop();
  });

  it('lists the runbooks a viewer may list, live, and filters them by namespace and phase', async () => {
    await env.apply(runbook('research-brief', 'pipeline', [{ name: 'research', agent: 'researcher' }]));
    await env.apply(runbook('weekly-report', 'pipeline', [{ name: 'write', agent: 'writer' }]));
    const { page } = await openPage(browser, alice.console.url);
    // alice may not list runbooks cluster-wide: the API server's refusal is shown as it was worded.
    await page.getByRole('alert').filter({ hasText: 'forbidden' }).waitFor();
    await page.getByLabel('Namespace').fill(env.namespace);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.locator('tr[data-name="research-brief"]').waitFor();
    await page.locator('tr[data-name="weekly-report"]').waitFor();
    await page.getByLabel('Phase').selectOption('Succeeded');
    await page.locator('tr[data-name="weekly-report"] .phase-Succeeded').waitFor();
    await page.locator('tr[data-name="research-brief"] .phase-Succeeded').waitFor();
    // A runbook created now appears without a reload.
    await page.getByLabel('Phase').selectOption('');
    await env.apply(runbook('late-arrival', 'pipeline', [{ name: 'research', agent: 'researcher' }]));
    await page.locator('tr[data-name="late-arrival"]').waitFor();
    await screenshot(page, shots, 'list');
    await page.context().close();
  });

  it("draws a run's stage graph and changes it live, from watches alone", async () => {
    env.script = (call) => (call.stage === 'draft' ? 'hold' : succeed({ notes: 'three sources' }));
    await env.apply(
      runbook('live-graph', 'parallel', [
        { name: 'research', agent: 'researcher' },
        { name: 'draft', agent: 'writer', dependsOn: ['research'] },
        { name: 'review', agent: 'reviewer', dependsOn: ['draft'] },
      ]),
    );
    const atOpen = alice.requests();
    const { page } = await openPage(browser, runUrl(alice, 'live-graph'));
    await page.locator('[data-stage="draft"][data-phase="Running"]').waitFor();
    await page.locator('[data-stage="research"][data-phase="Succeeded"]').waitFor();
    await screenshot(page, shots, 'run-graph');
    const before = alice.requests();
    // Opening the page: who the viewer is, then a list and a watch of the runbook and of its Events.
    expect(before - atOpen).to.equal(5);
    await env.node.finish(await heldPod('live-graph'), succeed({ draft: 'done' }));
    await page.locator('[data-stage="review"][data-phase="Succeeded"]').waitFor();
    await page.locator('.run-title .phase-Succeeded').waitFor();
    // Three stage transitions and the run's end reached the page without one more API request.
    expect(alice.requests() - before).to.equal(0);
    // Keyboard: a stage is a button reached with Tab and opened with Enter.
    await page.locator('[data-stage="review"]').focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Stage review' }).waitFor();
    await page.context().close();
  });

  it('approves a waiting gate for a user with the approve verb, and shows the refusal to one without', async () => {
    env.script = () => succeed({ summary: 'ok' });
    await env.apply(
      runbook('needs-signoff', 'pipeline', [{ name: 'research', agent: 'researcher' }], {
        quality: { gates: [{ name: 'risk_review', required: true }] },
      }),
    );
    await env.waitPhase('needs-signoff', 'WaitingForApproval');
    const refused = await openPage(browser, runUrl(mallory, 'needs-signoff'));
    await refused.page.getByRole('button', { name: 'Approve risk_review' }).click();
    const refusal = refused.page.locator('[data-notice="refused"]');
    await refusal.waitFor();
    expect(await refusal.textContent())
      .to.contain('user mallory may not decide gates')
      .and.contain('verb approve');
    await refused.page.context().close();

    const { page } = await openPage(browser, runUrl(alice, 'needs-signoff'), true);
    await page.getByLabel('Comment for gate risk_review').fill('read the research: ship it');
    await screenshot(page, shots, 'gate-approval');
    await page.getByRole('button', { name: 'Approve risk_review' }).click();
    await page.locator('[data-notice="ok"]').filter({ hasText: 'gate risk_review approved' }).waitFor();
    await page.locator('.run-title .phase-Succeeded').waitFor();
    await page
      .locator('[data-gate="risk_review"] .decisions')
      .filter({ hasText: 'alice approved' })
      .filter({ hasText: 'read the research: ship it' })
      .waitFor();
    await page.context().close();
  });

  it("refuses the author's approval of a four-eyes gate, and a policy's gate stays whatever the author does", async () => {
    await env.apply(prodReviewPolicy(env.namespace));
    const prod = runbook('prod-release', 'pipeline', [{ name: 'research', agent: 'researcher' }]) as {
      metadata: Record<string, unknown>;
    };
    prod.metadata.labels = { tier: 'prod' };
    const created = await env.as('carol', ['create', '-f', '-'], stringify(prod));
    expect(created.code, created.stderr).to.equal(0);
    await env.waitPhase('prod-release', 'WaitingForApproval');

    const { page } = await openPage(browser, runUrl(carol, 'prod-release'));
    await page
      .locator('[data-gate="prod-signoff"]')
      .filter({ hasText: 'required by GatePolicy/prod-review' })
      .waitFor();
    await page.getByRole('button', { name: 'Approve prod-signoff' }).click();
    const refusal = page.locator('[data-notice="refused"]');
    await refusal.waitFor();
    expect(await refusal.textContent()).to.contain(
      'carol last changed the spec, and the gate forbids its author',
    );
    // Taking the runbook out of the policy's reach is refused to an author without the approve verb.
    const unlabel = await env.as('mallory', ['label', 'arb', 'prod-release', 'tier-']);
    expect(unlabel.stderr).to.contain('making GatePolicy/prod-review stop matching this runbook');
    await page.locator('[data-gate="prod-signoff"].waiting').waitFor();
    await page.context().close();
  });

  it("follows a running stage's log, and the next attempt's after a retry", async () => {
    env.script = () => 'hold';
    await env.apply(
      runbook('chatty', 'pipeline', [{ name: 'web_research', agent: 'researcher' }], {
        execution: { mode: 'pipeline', retries: 1 },
      }),
    );
    const { page } = await openPage(browser, runUrl(alice, 'chatty'));
    await page.locator('[data-stage="web_research"][data-phase="Running"]').click();
    const first = page.locator('pre[data-attempt="1"]');
    await first.waitFor();
    const attempt1 = await heldPod('chatty');
    env.node.writeLog(attempt1, 'looking for sources\n');
    await page.locator('pre[data-attempt="1"]', { hasText: 'looking for sources' }).waitFor();
    env.node.writeLog(attempt1, 'found 3 sources\n');
    await page.locator('pre[data-attempt="1"]', { hasText: 'found 3 sources' }).waitFor();
    await env.node.finish(attempt1, { phase: 'Failed', exitCode: 1, logs: 'the model timed out\n' });
    await page.locator('pre[data-attempt="1"]', { hasText: 'the model timed out' }).waitFor();
    await page.locator('pre[data-attempt="2"]').waitFor({ timeout: 60_000 });
    const attempt2 = await heldPod('chatty', attempt1);
    env.node.writeLog(attempt2, 'second try\n');
    await page.locator('pre[data-attempt="2"]', { hasText: 'second try' }).waitFor();
    await env.node.finish(attempt2, succeed({ sources: 3 }));
    await page.locator('.run-title .phase-Succeeded').waitFor();
    // A rerun (by someone allowed to: alice only approves) is a new execution: the open log
    // follows its attempts, not the last run's.
    const rerunBy = await env.k('annotate', 'arb', 'chatty', `i2s.studio/rerun=${Date.now()}`);
    expect(rerunBy.code, rerunBy.stderr).to.equal(0);
    const rerun = await eventually(() => {
      const pod = env.held('chatty').find((candidate) => candidate !== attempt1 && candidate !== attempt2);
      if (!pod) throw new Error('the rerun has no held Pod yet');
      return Promise.resolve(pod);
    });
    await page.locator('pre[data-attempt="1"]').waitFor();
    env.node.writeLog(rerun, 'a fresh start\n');
    const fresh = page.locator('pre[data-attempt="1"]', { hasText: 'a fresh start' });
    await fresh.waitFor();
    expect(await fresh.textContent()).to.not.contain('looking for sources');
    await env.node.finish(rerun, succeed({ sources: 4 }));
    await page.context().close();
  });

  it('opens a 1 MiB output in part, without freezing the page, and downloads it whole', async () => {
    // 1 MiB as JSON, the most an output may be: the text and its two quotes.
    const answer = 'market research line; '.repeat(50_000).slice(0, 1024 * 1024 - 2);
    env.script = () => reported({ report: answer });
    await env.apply(
      runbook('big-report', 'pipeline', [
        { name: 'research', agent: 'researcher', config: { outputs: { report: 'string' } } },
      ]),
    );
    await env.waitPhase('big-report', 'Succeeded');
    const { page } = await openPage(browser, runUrl(alice, 'big-report'));
    await page.locator('[data-stage="research"]').click();
    await page.getByRole('button', { name: 'Open report' }).click();
    const shown = page.locator('.output-text').filter({ hasText: 'market research line' }).last();
    await page.getByText('Showing the first 65,536 of 1,048,574 characters.').waitFor();
    expect((await shown.textContent())?.length).to.equal(65_536);
    // The page still answers at once, and the download holds the whole output.
    expect(await page.evaluate('document.querySelectorAll("pre").length')).to.be.greaterThan(0);
    const href = await page.getByRole('link', { name: 'Download report' }).getAttribute('href');
    const whole = await page.evaluate(async (url) => (await fetch(url ?? '')).text(), href);
    expect(whole).to.equal(answer);
    await screenshot(page, shots, 'stage-output');
    await page.context().close();
  });

  it('makes a runbook from a template, suspends and resumes it, diffs its revisions and rolls one back, as the CLI would', async () => {
    env.script = () => 'hold';
    const rbac = 'rbac.authorization.k8s.io/v1';
    const clusterTemplates = [
      {
        apiVersion: rbac,
        kind: 'ClusterRole',
        metadata: { name: `${env.namespace}-template-reader` },
        rules: [
          { apiGroups: ['i2s.studio'], resources: ['clusteragentrunbooktemplates'], verbs: ['get', 'list'] },
        ],
      },
      {
        apiVersion: rbac,
        kind: 'ClusterRoleBinding',
        metadata: { name: `${env.namespace}-template-reader` },
        roleRef: {
          apiGroup: 'rbac.authorization.k8s.io',
          kind: 'ClusterRole',
          name: `${env.namespace}-template-reader`,
        },
        subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'carol' }],
      },
    ];
    const applied = await kubectl(
      env.plane.adminKubeconfigPath,
      ['apply', '-f', '-'],
      clusterTemplates.map((object) => stringify(object)).join('---\n'),
    );
    expect(applied.code, applied.stderr).to.equal(0);
    await env.apply({
      apiVersion: 'i2s.studio/v2',
      kind: 'AgentRunbookTemplate',
      metadata: { name: 'quick-research', namespace: env.namespace },
      spec: {
        description: 'One research stage for an idea.',
        runbook: {
          name: '{idea-slug}',
          spec: {
            version: '1.0.0',
            description: 'Research for ${context.title}',
            execution: { mode: 'pipeline' },
            agents: {
              pipeline: [
                {
                  name: 'research',
                  agent: 'researcher',
                  config: { inputs: { idea: '${context.ideaText}' } },
                },
              ],
            },
          },
        },
      },
    });

    const { page } = await openPage(browser, `${carol.console.url}#/generate`);
    await page.getByLabel('Namespace').fill(env.namespace);
    await page.getByLabel('Namespace').press('Tab');
    await page.getByRole('combobox', { name: 'Template' }).selectOption('quick-research');
    await page.getByLabel('Title').fill('Pet food market');
    await page.getByLabel('Idea').fill('Which pet foods sell online, and to whom?');
    await page.getByRole('button', { name: 'Create runbook' }).click();
    await page.waitForURL(/#\/run\//);
    const name = decodeURIComponent(page.url().split('/').at(-1) ?? '');
    await page.locator('[data-stage="research"][data-phase="Running"]').waitFor();
    expect((await env.k('get', 'arb', name, '-o', 'jsonpath={.spec.context.title}')).stdout).to.equal(
      'Pet food market',
    );

    await page.getByRole('button', { name: 'Suspend' }).click();
    await page
      .locator('[data-notice="ok"]')
      .filter({ hasText: `${name} suspended` })
      .waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page
      .locator('[data-notice="ok"]')
      .filter({ hasText: `${name} resumed` })
      .waitFor();
    expect((await env.k('get', 'arb', name, '-o', 'jsonpath={.spec.suspend}')).stdout).to.equal('');
    await env.node.finish(await heldPod(name), succeed({ findings: 'three niches' }));
    await page.locator('.run-title .phase-Succeeded').waitFor();
    env.script = () => succeed({ findings: 'three niches' });

    const changed = await env.k(
      'patch',
      'arb',
      name,
      '--type=merge',
      '-p',
      '{"spec":{"description":"Research, second take"}}',
    );
    expect(changed.code, changed.stderr).to.equal(0);
    await page.getByRole('tab', { name: 'Revisions' }).click();
    await page.getByRole('button', { name: 'Roll back to 1' }).waitFor();
    await page.locator('pre.diff .added').filter({ hasText: 'description: Research, second take' }).waitFor();
    await page
      .locator('pre.diff .removed')
      .filter({ hasText: 'description: Research for Pet food market' })
      .waitFor();
    await page.getByRole('button', { name: 'Roll back to 1' }).click();
    await page
      .locator('[data-notice="ok"]')
      .filter({ hasText: `${name} rolled back to revision 1` })
      .waitFor();
    expect((await env.k('get', 'arb', name, '-o', 'jsonpath={.spec.description}')).stdout).to.equal(
      'Research for Pet food market',
    );
    await page.getByRole('button', { name: 'Rerun' }).click();
    await page
      .locator('[data-notice="ok"]')
      .filter({ hasText: `${name} runs again` })
      .waitFor();
    await page.context().close();
  });

  it('renders hostile strings in runbook fields and agent outputs as inert text', async () => {
    const script = '<script>window.__owned = 1; alert("owned")</script>';
    const image = '<img src=x onerror="window.__owned = 1; alert(\'owned\')">';
    const link = 'javascript:alert(document.cookie)';
    const long = 'W'.repeat(10_000);
    env.script = () => reported({ html: `${script}${image}`, link, long });
    const hostile = runbook('hostile-strings', 'pipeline', [{ name: 'research', agent: 'researcher' }], {
      description: `${script}${image}[click](${link}) ${'D'.repeat(3900)}`,
    }) as { spec: { context: Record<string, unknown> } };
    hostile.spec.context.title = `${script}${image}`.slice(0, 512);
    await env.apply(hostile);
    await env.waitPhase('hostile-strings', 'Succeeded');
    const { page, dialogs } = await openPage(browser, runUrl(alice, 'hostile-strings'));
    await page.locator('[data-stage="research"]').click();
    await page.locator('.output-text').filter({ hasText: 'WWWW' }).waitFor();
    await page.getByRole('tab', { name: 'Spec' }).click();
    await page.locator('pre.spec').filter({ hasText: '<script>' }).waitFor();
    // Evaluated in the page, where the DOM is (the tests' own TypeScript has no DOM types).
    const found = await page.evaluate<{
      owned?: number;
      scripts: string[];
      images: number;
      javascriptLinks: number;
      overflow: number;
    }>(`({
      owned: window.__owned,
      scripts: [...document.scripts].map((element) => element.src),
      images: document.images.length,
      javascriptLinks: document.querySelectorAll('a[href^="javascript"]').length,
      overflow: document.documentElement.scrollWidth - window.innerWidth,
    })`);
    expect(found.owned).to.equal(undefined);
    expect(found.scripts).to.deep.equal([`${alice.console.url}app.js`]);
    expect(found.images).to.equal(0);
    expect(found.javascriptLinks).to.equal(0);
    expect(found.overflow).to.be.at.most(0);
    expect(dialogs).to.deep.equal([]);
    await page.context().close();
  });
});
