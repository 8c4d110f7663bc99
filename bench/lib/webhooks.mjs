/**
 * A webhook whose receiver never answers, for the `create-webhook-dead` scenario: issue 14 asks that
 * a dead receiver does not slow the API. The receiver accepts each connection and holds it without a
 * byte of answer, so every delivery waits out LEADTRAIL_WEBHOOK_TIMEOUT_MS and is retried later.
 */
import net from 'node:net';

/**
 * Starts the silent receiver, registers a webhook on activity posts (event code 2) pointing at it,
 * and returns `remove()`, which deletes the webhook and closes the receiver.
 * @param {{ call(method: string, path: string, body?: unknown): Promise<any> }} api
 */
export async function deadWebhook(api) {
  const sockets = new Set();
  const receiver = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address();
  const made = await api.call('POST', '/v2/Webhook.svc/Create', {
    Description: 'bench: a receiver that never answers',
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
