// TLS (issue 12 item 7): MQTT over TLS and HTTPS (with WSS at /mqtt) from certificates made at test time with
// the openssl CLI; a real SIGHUP swaps the certificate for new handshakes while connections already open carry
// on; a renewal gone wrong keeps the old certificate; settings that ask for TLS without usable files stop
// start-up with errors by path.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { copyFileSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { startApp, connectDevice, tempDir, waitFor, sampleSecrets, ADMIN_TOKEN, type TestApp } from '../helpers.js';
import { loadConfig, ConfigError } from '../../src/config/load.js';

const dir = tempDir('shaobing-tls-');
/** A self-signed certificate for 127.0.0.1 and localhost; it is its own CA. */
function makeCert(name: string): { cert: string; key: string; pem: Buffer; fingerprint256: string } {
  const cert = join(dir.path, `${name}.crt`);
  const key = join(dir.path, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2',
    '-subj', `/CN=shaobing test ${name}`, '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '-keyout', key, '-out', cert,
  ], { stdio: 'pipe' });
  const pem = readFileSync(cert);
  return { cert, key, pem, fingerprint256: new X509Certificate(pem).fingerprint256 };
}

const A = makeCert('a');
const B = makeCert('b');
// The files the service reads: A now, B after the renewal.
const live = { cert: join(dir.path, 'live.crt'), key: join(dir.path, 'live.key') };
copyFileSync(A.cert, live.cert);
copyFileSync(A.key, live.key);

let t: TestApp;
let ports: { mqtt: number; mqtts: number | null; http: number };
beforeAll(async () => {
  t = await startApp({
    mqtt: { host: '127.0.0.1', port: 0, tlsPort: 0 },
    http: { host: '127.0.0.1', port: 0, tls: true },
    tls: { cert: live.cert, key: live.key },
  });
  ports = t.app.ports;
});
afterAll(async () => {
  await t?.stop();
  dir.remove();
});

/** The fingerprint of the certificate a new TLS connection is shown. */
function fingerprintSeen(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
      const fp = s.getPeerCertificate().fingerprint256;
      s.end();
      resolve(fp);
    });
    s.on('error', reject);
  });
}

function httpsGet(path: string, ca: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; body: string; fingerprint256: string }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port: ports.http, path, ca, headers, agent: false }, (res) => {
      const fingerprint256 = (res.socket as tls.TLSSocket).getPeerCertificate().fingerprint256;
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint256 }));
    });
    req.on('error', reject);
  });
}

/** true when a plain MQTT client is closed (or errs) without a CONNACK. */
function neverConnects(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { clientId: 'plain', username: 'plain', password: 'x', reconnectPeriod: 0, connectTimeout: 3000 });
    c.once('connect', () => {
      c.end(true);
      resolve(false);
    });
    const refused = () => {
      c.end(true);
      resolve(true);
    };
    c.once('error', refused);
    c.once('close', refused);
  });
}

const publish = (c: MqttClient, topic: string, payload: string) =>
  new Promise<void>((resolve, reject) => c.publish(topic, payload, { qos: 1 }, (err) => (err ? reject(err) : resolve())));

describe('TLS', () => {
  const dev = 'gh-sd-6-302';
  const topic = `iot/guihuayuan/${dev}/up`;

  it('takes a device over MQTT on TLS, checked against the CA, and its message is processed', async () => {
    expect(ports.mqtts).toBeGreaterThan(0);
    const c = await connectDevice(`mqtts://127.0.0.1:${ports.mqtts}`, dev, sampleSecrets.devices[dev], { ca: A.pem });
    await publish(c, topic, JSON.stringify({ type: 'heartbeat', batteryPct: 77 }));
    await waitFor(async () => JSON.parse((await httpsGet(`/api/devices/${dev}`, A.pem, { authorization: `Bearer ${ADMIN_TOKEN}` })).body).batteryPct === 77, 'heartbeat processed');
    c.end(true);
    // The same port refuses a client that does not trust the certificate, and one that speaks plain MQTT.
    await expect(connectDevice(`mqtts://127.0.0.1:${ports.mqtts}`, dev, sampleSecrets.devices[dev], { ca: B.pem })).rejects.toThrow(/self[- ]signed|certificate/i);
    expect(await neverConnects(`mqtt://127.0.0.1:${ports.mqtts}`)).toBe(true);
    // Plain MQTT stays on its own port.
    (await connectDevice(`mqtt://127.0.0.1:${ports.mqtt}`, dev)).end(true);
  });

  it('serves the API over HTTPS, and MQTT over WSS at /mqtt', async () => {
    const health = await httpsGet('/healthz', A.pem);
    expect(health.status).toBe(200);
    expect(health.fingerprint256).toBe(A.fingerprint256);
    const devices = await httpsGet('/api/devices', A.pem, { authorization: `Bearer ${ADMIN_TOKEN}` });
    expect(devices.status).toBe(200);
    const ws = await connectDevice(`wss://127.0.0.1:${ports.http}/mqtt`, dev, sampleSecrets.devices[dev], { ca: A.pem });
    ws.end(true);
  });

  it('on SIGHUP serves the renewed certificate to new connections; open connections carry on', async () => {
    const before = await connectDevice(`mqtts://127.0.0.1:${ports.mqtts}`, dev, sampleSecrets.devices[dev], { ca: A.pem });
    expect(await fingerprintSeen(ports.mqtts!)).toBe(A.fingerprint256);
    copyFileSync(B.cert, live.cert);
    copyFileSync(B.key, live.key);
    process.kill(process.pid, 'SIGHUP');
    await waitFor(async () => (await fingerprintSeen(ports.mqtts!)) === B.fingerprint256, 'MQTT over TLS shows the new certificate');
    expect(await fingerprintSeen(ports.http)).toBe(B.fingerprint256);
    expect(t.app.tlsFingerprint).toBe(B.fingerprint256);
    // The connection opened before the reload was not dropped: it still publishes.
    expect(before.connected).toBe(true);
    await publish(before, topic, JSON.stringify({ type: 'heartbeat', batteryPct: 66 }));
    before.end(true);
    // New clients trust the new certificate only.
    (await connectDevice(`mqtts://127.0.0.1:${ports.mqtts}`, dev, sampleSecrets.devices[dev], { ca: B.pem })).end(true);
    expect((await httpsGet('/healthz', B.pem)).status).toBe(200);
  });

  it('keeps the certificate in use when the renewed files are broken', async () => {
    writeFileSync(live.cert, '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n');
    const r = t.app.reloadTls();
    expect(r).toMatchObject({ ok: false });
    expect(!r.ok && r.error).toMatch(/^tls\.cert: /);
    copyFileSync(A.cert, live.cert); // A's certificate with B's key: no match
    expect(t.app.reloadTls()).toMatchObject({ ok: false, error: expect.stringMatching(/^tls\.key: /) });
    expect(await fingerprintSeen(ports.mqtts!)).toBe(B.fingerprint256);
    expect(await fingerprintSeen(ports.http)).toBe(B.fingerprint256);
  });
});

describe('TLS settings', () => {
  const errorsOf = (overrides: Record<string, unknown>, env: Record<string, string> = {}) => {
    try {
      loadConfig({ settingsPath: 'config/settings.yaml', env, overrides });
    } catch (err) {
      if (err instanceof ConfigError) return err.errors;
      throw err;
    }
    return [];
  };

  it('stops start-up, by path, when TLS is asked for without usable files', () => {
    expect(errorsOf({ mqtt: { tlsPort: 8883 } })).toEqual([
      'config/settings.yaml: /tls/cert: required when /mqtt/tlsPort is set (SHAOBING_TLS_CERT)',
      'config/settings.yaml: /tls/key: required when /mqtt/tlsPort is set (SHAOBING_TLS_KEY)',
    ]);
    expect(errorsOf({ http: { tls: true }, tls: { cert: join(dir.path, 'none.crt'), key: B.key } })).toEqual([
      expect.stringMatching(/^config\/settings\.yaml: \/tls\/cert: cannot read .*none\.crt: ENOENT$/),
    ]);
    expect(errorsOf({ http: { tls: true }, tls: { cert: A.cert, key: B.key } })).toEqual([expect.stringMatching(/^config\/settings\.yaml: \/tls\/key: .* is not the private key of /)]);
    expect(errorsOf({ tls: { cert: A.cert, key: A.key, pem: 'x' } })).toEqual([expect.stringContaining('/tls/pem')]);
    expect(errorsOf({}, { SHAOBING_HTTP_TLS: 'yes' })).toEqual(["environment SHAOBING_HTTP_TLS: must be 1, 0, true or false, got 'yes'"]);
  });

  it('takes the files and ports from the environment', () => {
    const c = loadConfig({
      settingsPath: 'config/settings.yaml',
      env: { SHAOBING_MQTT_TLS_PORT: '8883', SHAOBING_HTTP_TLS: '1', SHAOBING_TLS_CERT: A.cert, SHAOBING_TLS_KEY: A.key },
    });
    expect(c.settings.mqtt.tlsPort).toBe(8883);
    expect(c.settings.http.tls).toBe(true);
    expect(c.settings.tls).toMatchObject({ cert: A.cert, key: A.key, handshakeTimeoutSeconds: 10 });
  });
});
