import { expect } from 'chai';
import { LABEL_REVISION_HASH } from '../../../src/api/labels.js';
import { RunbookHandle } from '../../../src/client/runbook-actions.js';
import { KubeApiError, type KubeHttp, type KubeRequest } from '../../../src/kube/http.js';

const UID = 'uid-1';

const revisionObject = (number: number, description: string) => ({
  metadata: {
    name: `r-${number}`,
    labels: { [LABEL_REVISION_HASH]: `h${number}` },
    ownerReferences: [{ uid: UID }],
  },
  revision: number,
  data: { spec: { description, agents: {} } },
});

/**
 * Answers as an API server whose runbook the operator's status writes move between each read and
 * the update: every GET of the runbook sees a new resourceVersion, and a PUT with an older one is
 * refused with 409, as the API server refuses it.
 */
class MovingApi {
  readonly puts: KubeRequest[] = [];
  resourceVersion = 1;
  generation = 2;
  /** How many of the next reads a status write follows, moving the resourceVersion. */
  movingReads = 1;

  request(req: KubeRequest): Promise<unknown> {
    if (req.method === 'GET' && req.path.includes('controllerrevisions'))
      return Promise.resolve({ items: [revisionObject(1, 'first'), revisionObject(2, 'second')] });
    if (req.method === 'GET') {
      const read = {
        metadata: {
          name: 'r',
          uid: UID,
          generation: this.generation,
          resourceVersion: `${this.resourceVersion}`,
        },
        spec: { description: 'second', agents: {}, suspend: true },
      };
      if (this.movingReads > 0) {
        this.movingReads -= 1;
        this.resourceVersion += 1;
      }
      return Promise.resolve(read);
    }
    this.puts.push(req);
    const sent = (req.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
    if (sent !== `${this.resourceVersion}`)
      return Promise.reject(new KubeApiError(409, 'Conflict', 'the object has been modified'));
    return Promise.resolve(req.body);
  }
}

describe('rolling a runbook back', () => {
  it('reads again and retries when only the operator’s status writes moved it, keeping suspend', async () => {
    const api = new MovingApi();
    const handle = new RunbookHandle(api as unknown as KubeHttp, 'ns', 'r');
    // The first read races one status write; the second read is the newest.
    const revision = await handle.rollback('1');
    expect(revision).to.include({ number: 1 });
    expect(api.puts).to.have.length(2);
    const last = api.puts.at(-1)?.body as { spec: { description: string; suspend: boolean } };
    expect(last.spec).to.deep.include({ description: 'first', suspend: true });
  });

  it('fails, naming the change, when the spec changed meanwhile, instead of overwriting it', async () => {
    const api = new MovingApi();
    const handle = new RunbookHandle(api as unknown as KubeHttp, 'ns', 'r');
    const rolled = handle.rollback('1');
    // Someone else changes the spec before the first update lands.
    api.generation = 3;
    const error = await rolled.then(
      () => undefined,
      (failed: unknown) => failed,
    );
    expect(error).to.be.instanceOf(KubeApiError);
    expect((error as Error).message).to.match(
      /changed while it was being rolled back \(generation 2 is now 3\)/,
    );
    expect(api.puts).to.have.length(1);
  });

  it('gives up after a few conflicts rather than retrying without end', async () => {
    const api = new MovingApi();
    api.movingReads = Number.POSITIVE_INFINITY;
    const handle = new RunbookHandle(api as unknown as KubeHttp, 'ns', 'r');
    const error = await handle.rollback('1').then(
      () => undefined,
      (failed: unknown) => failed,
    );
    expect(error).to.be.instanceOf(KubeApiError);
    expect(api.puts).to.have.length(5);
  });
});
