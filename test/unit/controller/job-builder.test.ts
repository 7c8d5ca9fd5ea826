import { expect } from 'chai';
import { buildJob, AGENT_CONTAINER } from '../../../src/controller/job-builder.js';
import { observeJob } from '../../../src/controller/observe.js';
import type { CachedRunbook, JobJson, PodJson } from '../../../src/kube/types.js';
import type { JobPlan } from '../../../src/engine/model/types.js';

const runbook: CachedRunbook = {
  metadata: { name: 'rb', namespace: 'ns', uid: 'uid-1', generation: 2, resourceVersion: '1' },
  spec: { version: '1.0.0', agents: {} },
};

const plan: JobPlan = {
  name: 'rb-normalize-0123456789',
  stage: 'normalize',
  agent: 'normalize',
  attempt: 1,
  execution: 'g2',
  generation: 2,
  image: 'example.com/agent:1',
  command: ['run'],
  env: { AGENT_STAGE: 'normalize' },
  secretEnv: [{ name: 'LLM_API_KEY', secret: 'openai', key: 'api-key' }],
  files: { inputs: '{"idea":"x"}', parameters: '{}', budget: '{"tokens":10}' },
  mounts: [{ configMap: 'rb-research-g2-1-outputs', key: 'report', path: 'outputs/research/report' }],
  activeDeadlineSeconds: 30,
  automountServiceAccountToken: false,
  scratch: { tmpSizeLimit: '1Gi', homeSizeLimit: '256Mi', home: '/home/agent' },
};

describe('job builder', () => {
  const job = buildJob(runbook, plan);
  const template = (job.spec?.template ?? {}) as {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: {
      automountServiceAccountToken: boolean;
      securityContext: Record<string, unknown>;
      volumes: { name: string; projected: { sources: Record<string, unknown>[] } }[];
      [field: string]: unknown;
      containers: {
        name: string;
        securityContext: Record<string, unknown>;
        terminationMessagePolicy: string;
        env: Record<string, unknown>[];
        volumeMounts: Record<string, unknown>[];
      }[];
    };
  };

  it('makes the runbook the Job’s controlling owner, so deleting the runbook deletes the Job', () => {
    expect(job.metadata.ownerReferences).to.deep.equal([
      {
        apiVersion: 'i2s.studio/v2',
        kind: 'AgentRunbook',
        name: 'rb',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it('labels the Job and its Pod with runbook, stage, agent, generation, execution and attempt', () => {
    const expected = {
      'app.kubernetes.io/managed-by': 'agentrunbook-operator',
      'i2s.studio/runbook': 'rb',
      'i2s.studio/stage': 'normalize',
      'i2s.studio/agent': 'normalize',
      'i2s.studio/generation': '2',
      'i2s.studio/execution': 'g2',
      'i2s.studio/attempt': '1',
    };
    expect(job.metadata.labels).to.deep.equal(expected);
    expect(template.metadata.labels).to.deep.equal(expected);
  });

  it('mounts the inputs, parameters and budget from the Pod’s annotations, and the stored outputs it is passed', () => {
    expect(template.metadata.annotations).to.deep.equal({
      'i2s.studio/inputs': '{"idea":"x"}',
      'i2s.studio/parameters': '{}',
      'i2s.studio/budget': '{"tokens":10}',
    });
    expect(template.spec.containers[0]?.volumeMounts).to.deep.include({
      name: 'agentrunbook',
      mountPath: '/var/run/agentrunbook',
      readOnly: true,
    });
    const [annotations, stored] = template.spec.volumes[0]?.projected.sources ?? [];
    expect(annotations).to.deep.equal({
      downwardAPI: {
        items: [
          { path: 'inputs.json', fieldRef: { fieldPath: "metadata.annotations['i2s.studio/inputs']" } },
          {
            path: 'parameters.json',
            fieldRef: { fieldPath: "metadata.annotations['i2s.studio/parameters']" },
          },
          { path: 'budget.json', fieldRef: { fieldPath: "metadata.annotations['i2s.studio/budget']" } },
        ],
      },
    });
    expect(stored).to.deep.equal({
      configMap: {
        name: 'rb-research-g2-1-outputs',
        optional: true,
        items: [{ key: 'report', path: 'outputs/research/report' }],
      },
    });
  });

  it('reads the catalog’s secretEnv from Secrets, and passes the rest as values', () => {
    expect(template.spec.containers[0]?.env).to.deep.equal([
      { name: 'AGENT_STAGE', value: 'normalize' },
      { name: 'LLM_API_KEY', valueFrom: { secretKeyRef: { name: 'openai', key: 'api-key' } } },
    ]);
  });

  it('leaves retries to the operator and passes the deadline on', () => {
    expect(job.spec).to.include({ backoffLimit: 0, activeDeadlineSeconds: 30 });
  });

  it('runs the agent as non-root, without privileges and without a ServiceAccount token', () => {
    expect(template.spec.automountServiceAccountToken).to.equal(false);
    expect(template.spec.securityContext).to.include({ runAsNonRoot: true });
    const container = template.spec.containers[0];
    expect(container?.name).to.equal(AGENT_CONTAINER);
    expect(container?.securityContext).to.deep.include({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
    expect(container?.terminationMessagePolicy).to.equal('File');
  });
});

describe('job builder: scratch and the agent’s Pod template', () => {
  type PodSpec = {
    securityContext: Record<string, unknown>;
    volumes: Record<string, unknown>[];
    containers: { securityContext: Record<string, unknown>; volumeMounts: Record<string, unknown>[] }[];
    [field: string]: unknown;
  };
  const podOf = (job: JobJson) =>
    (job.spec?.template ?? {}) as {
      metadata: { labels: Record<string, string>; annotations: Record<string, string> };
      spec: PodSpec;
    };

  it('gives every agent a writable /tmp and HOME, each a bounded emptyDir, under a read-only root', () => {
    const pod = podOf(
      buildJob(runbook, {
        ...plan,
        scratch: { tmpSizeLimit: '2Gi', homeSizeLimit: '64Mi', home: '/home/agent' },
      }),
    );
    expect(pod.spec.volumes.slice(1)).to.deep.equal([
      { name: 'scratch-tmp', emptyDir: { sizeLimit: '2Gi' } },
      { name: 'scratch-home', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(pod.spec.containers[0]?.volumeMounts.slice(1)).to.deep.equal([
      { name: 'scratch-tmp', mountPath: '/tmp' },
      { name: 'scratch-home', mountPath: '/home/agent' },
    ]);
    expect(pod.spec.containers[0]?.securityContext).to.include({ readOnlyRootFilesystem: true });
  });

  it('places and configures the Pod from the template, keeping the operator’s labels and files', () => {
    const pod = podOf(
      buildJob(runbook, {
        ...plan,
        serviceAccountName: 'agents',
        podTemplate: {
          labels: { team: 'a', 'i2s.studio/stage': 'forged' },
          annotations: { 'iam.example/role': 'reader', 'i2s.studio/inputs': 'forged' },
          nodeSelector: { pool: 'gpu' },
          tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'agents', effect: 'NoSchedule' }],
          affinity: { nodeAffinity: {} },
          topologySpreadConstraints: [{ maxSkew: 1 }],
          runtimeClassName: 'gvisor',
          priorityClassName: 'batch-low',
          imagePullSecrets: [{ name: 'regcred' }],
          volumes: [{ name: 'models', persistentVolumeClaim: { claimName: 'models' } }],
          volumeMounts: [{ name: 'models', mountPath: '/models', readOnly: true }],
          securityContext: {
            runAsUser: 1000,
            fsGroup: 2000,
            seccompProfile: { type: 'Localhost', localhostProfile: 'agents.json' },
          },
        },
      }),
    );
    expect(pod.metadata.labels).to.include({ team: 'a', 'i2s.studio/stage': 'normalize' });
    expect(pod.metadata.annotations).to.include({
      'iam.example/role': 'reader',
      'i2s.studio/inputs': '{"idea":"x"}',
    });
    expect(pod.spec).to.deep.include({
      serviceAccountName: 'agents',
      nodeSelector: { pool: 'gpu' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'agents', effect: 'NoSchedule' }],
      affinity: { nodeAffinity: {} },
      topologySpreadConstraints: [{ maxSkew: 1 }],
      runtimeClassName: 'gvisor',
      priorityClassName: 'batch-low',
      imagePullSecrets: [{ name: 'regcred' }],
    });
    expect(pod.spec.volumes.map((volume) => volume.name)).to.deep.equal([
      'agentrunbook',
      'scratch-tmp',
      'scratch-home',
      'models',
    ]);
    expect(pod.spec.containers[0]?.volumeMounts.at(-1)).to.deep.equal({
      name: 'models',
      mountPath: '/models',
      readOnly: true,
    });
    expect(pod.spec.securityContext).to.deep.equal({
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 65532,
      fsGroup: 2000,
      seccompProfile: { type: 'Localhost', localhostProfile: 'agents.json' },
    });
    expect(pod.spec.containers[0]?.securityContext).to.deep.equal({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });
});

describe('observing Jobs and Pods', () => {
  const job: JobJson = {
    metadata: { ...buildJob(runbook, plan).metadata, uid: 'job-uid' },
    status: { conditions: [{ type: 'Complete', status: 'True' }], completionTime: '2026-01-01T00:00:10Z' },
  };
  const pod = (phase: string, message?: string): PodJson => ({
    metadata: { name: 'p', namespace: 'ns' },
    status: {
      phase,
      containerStatuses: [
        { name: AGENT_CONTAINER, state: { terminated: { exitCode: 0, ...(message ? { message } : {}) } } },
      ],
    },
  });

  it('reads the stage, attempt and the agent’s termination message', () => {
    expect(observeJob(job, [pod('Succeeded', '{"outputs":{}}')])).to.deep.include({
      name: plan.name,
      stage: 'normalize',
      attempt: 1,
      execution: 'g2',
      state: 'succeeded',
      podTerminated: true,
      terminationMessage: '{"outputs":{}}',
    });
  });

  it('says when the Pod’s end has not been observed yet', () => {
    expect(observeJob(job, [])).to.deep.include({ state: 'succeeded', podTerminated: false });
  });

  it('carries the reason of a failed Job', () => {
    const failed = {
      ...job,
      status: { conditions: [{ type: 'Failed', status: 'True', reason: 'DeadlineExceeded' }] },
    };
    expect(observeJob(failed, [])).to.deep.include({ state: 'failed', failureReason: 'DeadlineExceeded' });
  });

  it('counts a namespaced Agent’s Job for its own breaker key', () => {
    const keyed = buildJob(runbook, { ...plan, agentKey: 'ns/normalize' });
    expect(keyed.metadata.annotations).to.deep.equal({ 'i2s.studio/agent-key': 'ns/normalize' });
    expect(observeJob(keyed, [])?.agent).to.equal('ns/normalize');
    expect(observeJob(job, [])?.agent).to.equal('normalize');
  });

  it('records the attempt’s grant on the Job and reads it back, taking only what the operator writes', () => {
    const granted = buildJob(runbook, { ...plan, grant: { tokens: 600, costUSD: '0.40' } });
    expect(granted.metadata.annotations).to.deep.equal({
      'i2s.studio/grant': '{"tokens":600,"costUSD":"0.40"}',
    });
    expect(observeJob(granted, [])?.grant).to.deep.equal({ tokens: 600, costUSD: '0.40' });
    expect(buildJob(runbook, plan).metadata.annotations).to.equal(undefined);
    expect(observeJob(job, [])).to.not.have.property('grant');
    // Anyone who may edit the Job may edit the annotation: nothing but a grant's two fields is taken.
    const edited = (text: string) =>
      observeJob(
        { ...granted, metadata: { ...granted.metadata, annotations: { 'i2s.studio/grant': text } } },
        [],
      )?.grant;
    expect(edited('{"tokens":-1,"costUSD":"1e9"}')).to.equal(undefined);
    expect(edited('{"tokens":1.5,"costUSD":"0.1","extra":true}')).to.deep.equal({ costUSD: '0.1' });
    expect(edited('not json')).to.equal(undefined);
    expect(edited('[7]')).to.equal(undefined);
    expect(edited(`{"tokens":1,"pad":"${'x'.repeat(200)}"}`)).to.equal(undefined);
  });

  it('ignores a Job without the operator’s labels', () => {
    expect(observeJob({ metadata: { name: 'x' } }, [])).to.equal(undefined);
  });

  it('takes FailureTarget as the outcome: a stage past its deadline fails then, not when its Pod is gone', () => {
    const pastDeadline: JobJson = {
      metadata: job.metadata,
      status: {
        conditions: [
          {
            type: 'FailureTarget',
            status: 'True',
            reason: 'DeadlineExceeded',
            lastTransitionTime: '2026-01-01T00:00:05Z',
          },
        ],
      },
    };
    const terminating: PodJson = {
      metadata: { name: 'p', namespace: 'ns', deletionTimestamp: '2026-01-01T00:00:05Z' },
      status: { phase: 'Running' },
    };
    expect(observeJob(pastDeadline, [terminating])).to.include({
      state: 'failed',
      failureReason: 'DeadlineExceeded',
      completionTime: '2026-01-01T00:00:05Z',
    });
    const succeeded: JobJson = {
      metadata: job.metadata,
      status: { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }] },
    };
    expect(observeJob(succeeded, [])).to.include({ state: 'succeeded' });
  });

  it('reads the node the Pod was scheduled to, and why the scheduler cannot place it while it cannot', () => {
    const active: JobJson = { metadata: job.metadata, status: {} };
    const pending: PodJson = {
      metadata: { name: 'p', namespace: 'ns' },
      status: {
        phase: 'Pending',
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message: '0/1 nodes are available',
          },
        ],
      },
    };
    expect(observeJob(active, [pending])).to.include({ unschedulable: '0/1 nodes are available' });
    expect(observeJob(active, [pending])).not.to.have.property('node');
    const placed: PodJson = { ...pending, spec: { nodeName: 'node-b' }, status: { phase: 'Running' } };
    expect(observeJob(active, [placed])).to.include({ node: 'node-b' });
    expect(observeJob(active, [placed])).not.to.have.property('unschedulable');
  });
});

describe('job builder: workspaces', () => {
  const withWorkspaces: JobPlan = {
    ...plan,
    workspaces: [
      {
        name: 'source',
        mountPath: '/workspace/source',
        readOnly: true,
        claim: { name: 'rb-source-abc', template: { spec: { resources: { requests: { storage: '1Gi' } } } } },
      },
      { name: 'scratch', mountPath: '/scratch', readOnly: false, emptyDir: { sizeLimit: '64Mi' } },
    ],
    colocation: { group: 'g-123', node: 'node-b' },
    podTemplate: {
      nodeSelector: { disk: 'ssd' },
      affinity: {
        podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'zone' }] },
      },
    },
  };
  const pod = buildJob(runbook, withWorkspaces).spec?.template as {
    metadata: { labels: Record<string, string> };
    spec: {
      volumes: Record<string, unknown>[];
      securityContext: Record<string, unknown>;
      nodeSelector: Record<string, string>;
      affinity: { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: unknown[] } };
      containers: { volumeMounts: Record<string, unknown>[] }[];
    };
  };

  it('mounts each workspace the stage names: its claim or its emptyDir, read-only where asked', () => {
    expect(pod.spec.volumes).to.deep.include.members([
      { name: 'workspace-0', persistentVolumeClaim: { claimName: 'rb-source-abc' } },
      { name: 'workspace-1', emptyDir: { sizeLimit: '64Mi' } },
    ]);
    expect(pod.spec.containers[0]?.volumeMounts).to.deep.include.members([
      { name: 'workspace-0', mountPath: '/workspace/source', readOnly: true },
      { name: 'workspace-1', mountPath: '/scratch' },
    ]);
  });

  it('gives a claim’s volume to the agent’s group (fsGroup) so a non-root agent can write it', () => {
    expect(pod.spec.securityContext).to.include({ fsGroup: 65532, fsGroupChangePolicy: 'OnRootMismatch' });
    const plain = buildJob(runbook, plan).spec?.template as { spec: { securityContext: object } };
    expect(plain.spec.securityContext).not.to.have.property('fsGroup');
  });

  it('keeps the Pod with its run’s others by pod affinity and on their node, adding to the agent’s own placement', () => {
    expect(pod.metadata.labels).to.include({ 'i2s.studio/colocate': 'g-123' });
    expect(pod.spec.nodeSelector).to.deep.equal({ disk: 'ssd', 'kubernetes.io/hostname': 'node-b' });
    expect(pod.spec.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution).to.deep.equal([
      { topologyKey: 'zone' },
      {
        labelSelector: { matchLabels: { 'i2s.studio/colocate': 'g-123' } },
        topologyKey: 'kubernetes.io/hostname',
      },
    ]);
  });
});
