// The live event stream. EventSource cannot send an Authorization header, so this reads
// /v1/events/stream with fetch and resumes with Last-Event-ID after any drop.
import { accessToken, refresh } from './api.js';

export function followEvents(onEvent) {
  let lastId;
  let stopped = false;
  const controller = new AbortController();

  async function connect() {
    while (!stopped) {
      try {
        const headers = { authorization: `Bearer ${accessToken()}` };
        if (lastId) headers['last-event-id'] = lastId;
        const response = await fetch('/v1/events/stream', { headers, signal: controller.signal });
        if (response.status === 401) {
          if (!(await refresh())) return;
          continue;
        }
        if (!response.ok) throw new Error(`stream answered ${response.status}`);
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value;
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const id = /^id: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (id && data) {
              lastId = id;
              onEvent(JSON.parse(data));
            }
          }
        }
      } catch {
        if (stopped) return;
      }
      await new Promise((resolve) => setTimeout(resolve, 2000)); // then resume after lastId
    }
  }

  void connect();
  return () => {
    stopped = true;
    controller.abort();
  };
}
