/**
 * The reasons the operator gives are one typed vocabulary (src/api/reasons.ts): the types keep
 * code from naming a reason the table lacks where it flows through them, and this test catches
 * the literals that do not (a stage's reason assigned directly), and entries nothing gives.
 */
import { expect } from 'chai';
import { REASONS } from '../../../src/api/reasons.js';
import { sourceCode } from '../../support/repo-files.js';

// The HTTP Status reasons of admission responses are Kubernetes' (metav1.StatusReason), not ours.
const KUBERNETES_STATUS_REASONS = new Set(['BadRequest', 'Invalid']);

describe('reasons: one documented vocabulary', () => {
  const code = sourceCode(['engine', 'controller', 'generator', 'operator'], ['reasons.ts']);
  const given = new Set(
    [...code.matchAll(/reason(?::| =| \?\?=) '([A-Z][A-Za-z]+)'/g)].map((match) => match[1] ?? ''),
  );

  it('lists every reason the code gives as a literal', () => {
    const unlisted = [...given].filter(
      (reason) => !Object.hasOwn(REASONS, reason) && !KUBERNETES_STATUS_REASONS.has(reason),
    );
    expect(unlisted).to.deep.equal([]);
    expect(given.size).to.be.greaterThan(30);
  });

  it('lists only reasons something gives', () => {
    const unused = Object.keys(REASONS).filter((reason) => !code.includes(`'${reason}'`));
    expect(unused).to.deep.equal([]);
  });

  it('says for each reason where it appears and what it means', () => {
    for (const [reason, doc] of Object.entries(REASONS)) {
      expect(reason, reason).to.match(/^[A-Z][A-Za-z]+$/);
      expect(doc.on.length, reason).to.be.greaterThan(0);
      expect(doc.means, reason).to.match(/^\S.{10,}\.$/);
    }
  });
});
