import { expect } from 'chai';
import { networkPolicyFor } from '../../../src/controller/network-policy.js';
import type { JobPlan } from '../../../src/engine/model/types.js';
import { egressPolicyName } from '../../../src/engine/model/naming.js';

const plan = (egress: NonNullable<JobPlan['egress']>['egress']) =>
  ({
    agent: 'researcher',
    egress: {
      policy: egressPolicyName('researcher'),
      egress,
      owner: { apiVersion: 'i2s.studio/v2', kind: 'Agent', name: 'researcher', uid: 'u-1' },
    },
  }) as JobPlan & { egress: NonNullable<JobPlan['egress']> };

describe("an agent's egress as a NetworkPolicy", () => {
  it("selects the agent's Pods and allows only its destinations and DNS, owned by its Agent", () => {
    const policy = networkPolicyFor(
      'team',
      plan({ to: [{ cidr: '203.0.113.0/24', except: ['203.0.113.7/32'], ports: [{ port: 443 }] }] }),
    );
    expect(policy.metadata).to.deep.include({ namespace: 'team', name: egressPolicyName('researcher') });
    expect(policy.metadata.name).to.match(/^agent-egress-researcher-[0-9a-f]+$/);
    expect(policy.metadata.ownerReferences).to.deep.equal([
      {
        apiVersion: 'i2s.studio/v2',
        kind: 'Agent',
        name: 'researcher',
        uid: 'u-1',
        blockOwnerDeletion: false,
      },
    ]);
    expect(policy.spec).to.deep.equal({
      podSelector: {
        matchLabels: {
          'app.kubernetes.io/managed-by': 'agentrunbook-operator',
          'i2s.studio/agent': 'researcher',
        },
      },
      policyTypes: ['Egress'],
      egress: [
        {
          to: [{ ipBlock: { cidr: '203.0.113.0/24', except: ['203.0.113.7/32'] } }],
          ports: [{ port: 443, protocol: 'TCP' }],
        },
        {
          ports: [
            { port: 53, protocol: 'UDP' },
            { port: 53, protocol: 'TCP' },
          ],
        },
      ],
    });
  });

  it('with no destinations and dns: false, allows nothing out', () => {
    expect(networkPolicyFor('team', plan({ to: [], dns: false })).spec.egress).to.deep.equal([]);
  });

  it('keeps policy names valid for any agent name', () => {
    const long = 'a'.repeat(200);
    expect(egressPolicyName(long))
      .to.have.length.at.most(63)
      .and.match(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    expect(egressPolicyName('x.y')).to.not.equal(egressPolicyName('x-y'));
  });
});
