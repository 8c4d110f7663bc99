/**
 * A webhook whose receiver never answers, for the `create-webhook-dead` scenario: issue 14 asks that
 * a dead receiver does not slow the API. The receiver accepts each connection and holds it without a
 * byte of answer, so every delivery waits out LEADTRAIL_WEBHOOK_TIMEOUT_MS and is retried later.
 */
import net from 'node:net';

/**
 * Starts a receiver, registers a webhook on activity posts (event code 2) pointing at it, and
 * returns `remove()`, which deletes the webhook and closes the receiver. `live`: the receiver answers
 * every delivery at once with 200; otherwise it holds each connection without a byte of answer.
 * @param {{ call(method: string, path: string, body?: unknown): Promise<any> }} api
 */
export async function benchWebhook(api, live = false) {
  const sockets = new Set();
  const receiver = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    if (live) {
      // Enough HTTP for a keep-alive client: one 200 per request head, bodies ignored.
      socket.on('data', (chunk) => {
        const heads = chunk.toString('latin1').split('HTTP/1.1\r\n').length - 1;
        for (let i = 0; i < heads; i++) socket.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
      });
    }
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address();
  const made = await api.call('POST', '/v2/Webhook.svc/Create', {
    Description: live ? 'bench: a receiver that answers at once' : 'bench: a receiver that never answers',
    URL: `http://127.0.0.1:${port}/hook`,
    Method: 'POST',
    ContentType: 'application/json',
    WebhookEvent: '2',
  });
  const id = made.Message.Id;
  return {
    async remove() {
      await api.call('POST', '/v2/Webhook.svc/Delete', { WebhookId: id });
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => receiver.close(resolve));
    },
  };
}
