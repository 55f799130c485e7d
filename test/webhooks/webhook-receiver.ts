import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw body, as signed. */
  body: string;
  /** True once this request's response was sent or its connection closed. */
  done: boolean;
  /** True when the sender gave up (closed the connection) before an answer was sent. */
  abandoned: boolean;
}

/** How the receiver answers one request; the default answers 204. */
export type Answer = (req: ReceivedRequest, res: ServerResponse, index: number) => void | Promise<void>;

export interface Receiver {
  url: string;
  requests: ReceivedRequest[];
  answer: Answer;
  close(): Promise<void>;
}

/** A real HTTP server on a loopback port that records every request and answers as told. */
export async function startReceiver(answer: Answer = (_req, res) => { res.writeHead(204).end(); }): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const receiver: Receiver = { url: '', requests, answer, close: async () => {} };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const received: ReceivedRequest = {
        method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), done: false, abandoned: false,
      };
      res.on('finish', () => { received.done = true; });
      res.on('close', () => {
        if (!received.done) received.abandoned = true;
        received.done = true;
      });
      const index = requests.push(received) - 1;
      void Promise.resolve(receiver.answer(received, res, index)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  receiver.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return receiver;
}

/** A loopback port nothing listens on (it was free a moment ago). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A promise and the function that resolves it: holds a receiver's answer until the test says. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((resolve) => { open = resolve; });
  return { wait, open };
}
