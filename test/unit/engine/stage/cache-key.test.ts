import { expect } from 'chai';
import { ENV } from '../../../../src/api/agent-contract.js';
import type { JobPlan } from '../../../../src/engine/model/types.js';
import { cacheSettings, parameterCache } from '../../../../src/engine/spec/cache-settings.js';
import {
  cacheKey,
  cacheMaterial,
  imageIdentity,
  reportedDigest,
} from '../../../../src/engine/stage/cache-key.js';
import { spec } from '../../../support/engine-harness.js';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function plan(overrides: Partial<JobPlan> = {}, inputs: unknown = { b: 1, a: [1, 2] }): JobPlan {
  return {
    name: 'job',
    stage: 'research',
    agent: 'research',
    attempt: 1,
    execution: 'g1',
    generation: 1,
    image: 'example.com/research:1',
    env: { [ENV.llm]: JSON.stringify({ baseURL: 'https://llm', model: 'm1', price: { in: 1 } }) },
    secretEnv: [],
    files: { inputs: JSON.stringify(inputs), parameters: '{"depth":2}', budget: '{"tokens":5}' },
    mounts: [],
    automountServiceAccountToken: false,
    scratch: { tmpSizeLimit: '1Gi', homeSizeLimit: '1Gi', home: '/home' },
    ...overrides,
  };
}

const settings = { maxAge: '24h', maxAgeMs: 86_400_000 };
const keyOf = (p: JobPlan, extra: Partial<typeof settings & { key: string; version: string }> = {}) =>
  cacheKey(cacheMaterial(p, { name: 'research' }, undefined, { ...settings, ...extra }, p.image));

describe('cache keys', () => {
  it('are sha256 of canonical JSON: the order keys were written in does not matter', () => {
    const key = keyOf(plan());
    expect(key).to.match(/^sha256:[0-9a-f]{64}$/);
    expect(keyOf(plan({}, { a: [1, 2], b: 1 }))).to.equal(key);
    expect(keyOf(plan({}, { a: [2, 1], b: 1 }))).to.not.equal(key);
  });

  it('change with what determines the result, and not with the budget, the attempt or the price', () => {
    const key = keyOf(plan());
    const changed = [
      plan({ image: 'example.com/research:2' }),
      plan({ command: ['run'] }),
      plan({ args: ['--fast'] }),
      plan({ files: { ...plan().files, parameters: '{"depth":3}' } }),
      plan({ env: { [ENV.llm]: JSON.stringify({ baseURL: 'https://llm', model: 'm2' }) } }),
      plan({ mounts: [{ configMap: 'c', key: 'k', path: 'outputs/a/k', digest: DIGEST }] }),
    ];
    for (const other of changed) expect(keyOf(other)).to.not.equal(key);
    expect(keyOf(plan(), { key: 'week-49' })).to.not.equal(key);
    expect(keyOf(plan(), { version: '2' })).to.not.equal(key);
    const same = plan({
      attempt: 3,
      files: { ...plan().files, budget: '{"tokens":9}' },
      env: { [ENV.llm]: JSON.stringify({ baseURL: 'https://llm', model: 'm1', price: { in: 2 } }) },
    });
    expect(keyOf(same)).to.equal(key);
  });

  it('an upstream output passed as a file is keyed by its content, not by the ConfigMap it is in', () => {
    const at = (configMap: string, digest: string) =>
      keyOf(plan({ mounts: [{ configMap, key: 'k', path: 'outputs/a/k', digest }] }));
    expect(at('run-1-outputs', DIGEST)).to.equal(at('run-2-outputs', DIGEST));
    expect(at('run-1-outputs', DIGEST)).to.not.equal(at('run-1-outputs', `sha256:${'b'.repeat(64)}`));
  });

  it('are not made of what canonical JSON refuses (a lone surrogate): such a stage is not cached', () => {
    expect(keyOf(plan({}, { text: '\ud800' }))).to.equal(undefined);
  });

  it('stand for an image by the digest it pins, else the one its Pods reported, else its reference', () => {
    expect(imageIdentity(`repo/x@${DIGEST}`, undefined)).to.equal(DIGEST);
    expect(imageIdentity('repo/x:1', DIGEST)).to.equal(DIGEST);
    expect(imageIdentity('repo/x:1', undefined)).to.equal('repo/x:1');
    expect(reportedDigest(`docker-pullable://repo/x@${DIGEST}`)).to.equal(DIGEST);
    expect(reportedDigest(DIGEST)).to.equal(DIGEST);
    expect(reportedDigest('docker://abc')).to.equal(undefined);
  });
});

describe('cache settings', () => {
  const stage = { name: 's' };
  it('a stage its own cache, else the words of its parameters, else spec.execution.cache; off by default', () => {
    const base = spec({ stages: [stage] });
    expect(cacheSettings(base, stage, true)).to.equal(undefined);
    const all = { ...base, execution: { cache: { maxAge: '2h' } } };
    expect(cacheSettings(all, stage, true)).to.include({ maxAge: '2h', maxAgeMs: 7_200_000 });
    expect(cacheSettings(all, { ...stage, cache: { enabled: false } }, true)).to.equal(undefined);
    expect(cacheSettings(all, { ...stage, cache: { maxAge: '5m', key: 'k' } }, true)).to.include({
      maxAge: '5m',
      key: 'k',
    });
    expect(cacheSettings(all, { ...stage, config: { parameters: { useCache: false } } }, true)).to.equal(
      undefined,
    );
    expect(cacheSettings(base, { ...stage, cache: {} }, true)).to.include({ maxAge: '24h' });
    expect(cacheSettings(all, stage, false)).to.equal(undefined);
  });

  it('reads useCache/cacheEnabled with maxAge/cacheTTL, and nothing from parameters that do not switch it', () => {
    expect(parameterCache({ useCache: true, maxAge: '24h' })).to.deep.equal({ maxAge: '24h' });
    expect(parameterCache({ cacheEnabled: true, cacheTTL: '1h' })).to.deep.equal({ maxAge: '1h' });
    expect(parameterCache({ cacheEnabled: false })).to.deep.equal({ enabled: false });
    expect(parameterCache({ maxAge: '1h' })).to.equal(undefined);
    expect(parameterCache({ useCache: 'yes' })).to.equal(undefined);
  });
});
