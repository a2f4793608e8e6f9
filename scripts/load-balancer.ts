// A small round-robin HTTP load balancer for running Kassa as several processes on one host
// (what nginx or a cloud load balancer does in production; see deploy/nginx.conf). Streams
// both ways, so Server-Sent Events pass through; an upstream that refuses the connection is
// skipped for the next one, and the request goes there instead.
import http from 'node:http';

export interface Upstream {
  name: string;
  port: number;
  served: number;
}

export function startLoadBalancer(upstreams: Upstream[], port: number, host = '127.0.0.1'): Promise<http.Server> {
  let next = 0;
  const server = http.createServer((request, response) => {
    const forward = (attempt: number) => {
      const upstream = upstreams[(next++) % upstreams.length]!;
      const proxied = http.request(
        {
          host: '127.0.0.1',
          port: upstream.port,
          method: request.method,
          path: request.url,
          headers: { ...request.headers, 'x-forwarded-for': request.socket.remoteAddress ?? '', 'x-forwarded-proto': 'http' },
        },
        (answer) => {
          upstream.served++;
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      proxied.on('error', (error: NodeJS.ErrnoException) => {
        if (error.code === 'ECONNREFUSED' && attempt < upstreams.length) return forward(attempt + 1); // nothing was sent yet
        if (!response.headersSent) response.writeHead(502, { 'content-type': 'application/problem+json' });
        response.end(JSON.stringify({ type: 'about:blank', title: 'Bad gateway', status: 502, code: 'unavailable', detail: 'no API instance answered' }));
      });
      response.on('close', () => proxied.destroy());
      request.pipe(proxied);
    };
    forward(1);
  });
  return new Promise((resolve) => server.listen(port, host, () => resolve(server)));
}
