/**
 * An agent's egress: where its Pods may connect. The operator turns it into one NetworkPolicy per
 * agent and namespace that selects the agent's Pods, made before the first Pod, so an untrusted
 * agent reaches only what its Agent lists. Standard NetworkPolicy knows addresses, not host
 * names; a CNI that enforces NetworkPolicy is needed (Calico, Cilium, Antrea; not flannel alone).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Bool, Int, Obj, Str, StrList, StringEnum } from './schema-kit.js';

/** An IPv4 or IPv6 CIDR, as NetworkPolicy's ipBlock takes it. */
const CIDR_PATTERN = '^([0-9]{1,3}(\\.[0-9]{1,3}){3}/[0-9]{1,2}|[0-9a-fA-F:]+/[0-9]{1,3})$';
const Cidr = (description: string) => Str(description, { maxLength: 64, pattern: CIDR_PATTERN });

export const EgressPort = Obj('A port the agent may connect to.', {
  port: Int('Port number.', { minimum: 1, maximum: 65535 }),
  protocol: Type.Optional(StringEnum('Protocol (default TCP).', ['TCP', 'UDP', 'SCTP'] as const)),
});

export const EgressRule = Obj('Addresses the agent may reach, on some ports or all.', {
  cidr: Cidr('Addresses, e.g. 203.0.113.0/24 or 0.0.0.0/0.'),
  except: Type.Optional(StrList('Addresses within cidr that stay closed.', Cidr('A CIDR.'), 16)),
  ports: Type.Optional(
    Type.Array(EgressPort, { description: 'Ports it may reach there; all when absent.', maxItems: 16 }),
  ),
});

export const Egress = Obj(
  "Where the agent's Pods may connect. When set, the operator keeps a NetworkPolicy in each namespace that runs the agent which allows only these destinations (and DNS), and removes it when egress is removed. Host names cannot be listed: NetworkPolicy knows addresses; enforcing it needs a CNI that implements NetworkPolicy.",
  {
    to: Type.Array(EgressRule, { description: 'Destinations; none means no egress but DNS.', maxItems: 32 }),
    dns: Type.Optional(Bool('Allow DNS (port 53, UDP and TCP, to any address); default true.')),
  },
);

export type EgressSpec = Static<typeof Egress>;
