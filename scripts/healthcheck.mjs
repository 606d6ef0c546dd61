// Docker HEALTHCHECK: GET /healthz on the port and scheme the service was configured with (SHAOBING_HTTP_PORT,
// SHAOBING_HTTP_TLS, as the image and docker-compose.yml set them), on the loopback address. Exit 0 when the
// service answers 200, else 1. With TLS the certificate is not checked: it names the public host, not 127.0.0.1.
import http from 'node:http';
import https from 'node:https';

const port = Number(process.env.SHAOBING_HTTP_PORT || 8080);
const tls = /^(1|true)$/.test(process.env.SHAOBING_HTTP_TLS ?? '');
const req = (tls ? https : http).get(
  { host: '127.0.0.1', port, path: '/healthz', timeout: 4000, ...(tls ? { rejectUnauthorized: false } : {}) },
  (res) => {
    res.resume();
    process.exit(res.statusCode === 200 ? 0 : 1);
  },
);
req.on('timeout', () => req.destroy(new Error('timeout')));
req.on('error', () => process.exit(1));
