/**
 * How large a WebSocket frame one connection may send. The `ws` server
 * takes one `maxPayload` for every connection; a gate gets the small
 * handshake limit until it is admitted, then the larger one. `ws` has no
 * public way to change the limit of an open socket (websockets/ws#1473
 * was declined), so this sets its receiver's limit, which `ws` reads for
 * every frame; the version of `ws` is pinned, and the gate trust tests
 * fail if this stops working.
 */
import type { WebSocket } from 'ws';

interface WithReceiver {
  _receiver?: { _maxPayload?: unknown };
}

export function setFrameLimit(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as WithReceiver)._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number') {
    throw new Error('this version of ws keeps no per-socket frame limit where it used to; see frame-limit.ts');
  }
  receiver._maxPayload = bytes;
}
