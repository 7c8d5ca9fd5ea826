/** Names of the AgentRunbook API, shared by the CRD generator, the clients and the tests. */
export const GROUP = 'i2s.studio';
export const KIND = 'AgentRunbook';
export const LIST_KIND = 'AgentRunbookList';
export const PLURAL = 'agentrunbooks';
export const SINGULAR = 'agentrunbook';
export const SHORT_NAMES = ['arb'];
export const CATEGORIES = ['i2s'];
export const STORAGE_VERSION = 'v2';
export const CRD_NAME = `${PLURAL}.${GROUP}`;

/** The Service in front of the operator's webhook server (conversion and validation). */
export const WEBHOOK_SERVICE = { namespace: 'agentrunbook-system', name: 'agentrunbook-webhook' };
