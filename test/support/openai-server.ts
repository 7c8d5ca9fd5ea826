/**
 * A local OpenAI-compatible chat-completions endpoint for tests: it records each request and
 * answers as the test says, so the LLM agent is tested without a network.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatRequest {
  authorization?: string;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    max_tokens?: number;
    temperature?: number;
  };
}

/** What to answer: a status and JSON body, or 'hang' (never answer). */
export type ChatReply = { status: number; body: unknown } | 'hang';

/** A successful completion with this content and usage. */
export function completion(
  content: string,
  usage = { prompt_tokens: 1000, completion_tokens: 500 },
  finish = 'stop',
) {
  return {
    status: 200,
    body: {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finish }],
      usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
    },
  };
}

export class OpenAiServer {
  readonly requests: ChatRequest[] = [];
  reply: (request: ChatRequest) => ChatReply = () => completion('{}');
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();

  /** Listens on `host` (where the agents reach it); resolves with the base URL. */
  async start(host = '127.0.0.1'): Promise<string> {
    this.server = createServer((req, res) => {
      void this.answer(req, res);
    });
    await new Promise<void>((resolve) => this.server?.listen(0, host, resolve));
    return `http://${host}:${(this.server.address() as AddressInfo).port}/v1`;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server?.closeAllConnections();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => {
        resolve();
      });
    });
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    if (req.method !== 'POST' || !req.url?.endsWith('/v1/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    const request: ChatRequest = {
      ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}),
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequest['body'],
    };
    this.requests.push(request);
    const reply = this.reply(request);
    if (reply === 'hang') {
      this.hanging.add(res);
      return;
    }
    res.writeHead(reply.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(reply.body));
  }
}
