// A small MQTT.js driver for Strata's integration tests.
//
//   node mqttjs_client.js '<json>'
//
// json: { url, protocolVersion (4|5), clientId, clean, connectProperties,
//         subscribe: [{topic, qos, nl, rap, rh, properties}],
//         publish:   [{topic, payload_b64, qos, retain, properties}],
//         expect: <messages to wait for>, timeoutMs,
//         scram: {user, password} }
//
// scram: log in with MQTT 5 enhanced authentication, SCRAM-SHA-256
// (RFC 5802) computed here with Node's crypto; MQTT.js carries the AUTH
// packets (handleAuth). The connack event then has scramServerVerified:
// whether the broker's server-final signature is the expected one.
//
// Prints one JSON object per line: {"event":"connack", ...},
// {"event":"subscribed","granted":[...]}, {"event":"message", ...},
// {"event":"published","index":i}, {"event":"done"} or {"event":"error", ...}.
// Exit code 0 when everything expected happened, 2 on timeout, 1 on error.
'use strict';

const mqtt = require('mqtt');

const cfg = JSON.parse(process.argv[2]);
const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');

function encodeProps(p) {
  if (!p) return undefined;
  const r = {};
  for (const [k, v] of Object.entries(p)) {
    if (v && typeof v === 'object' && v.__b64 !== undefined) r[k] = Buffer.from(v.__b64, 'base64');
    else r[k] = v;
  }
  return r;
}

function decodeProps(p) {
  if (!p) return {};
  const r = {};
  for (const [k, v] of Object.entries(p)) {
    r[k] = Buffer.isBuffer(v) ? { __b64: v.toString('base64') } : v;
  }
  return r;
}

const timer = setTimeout(() => {
  out({ event: 'timeout' });
  process.exit(2);
}, cfg.timeoutMs || 5000);

// The client side of one SCRAM-SHA-256 exchange.
function scramClient(user, password) {
  const crypto = require('crypto');
  const hmac = (key, data) => crypto.createHmac('sha256', key).update(data).digest();
  const nonce = crypto.randomBytes(18).toString('base64');
  const bare = `n=${user.replace(/=/g, '=3D').replace(/,/g, '=2C')},r=${nonce}`;
  const state = { serverSignature: null };
  return {
    clientFirst: Buffer.from(`n,,${bare}`),
    clientFinal(serverFirst) {
      const fields = Object.fromEntries(serverFirst.toString().split(',').map((f) => [f[0], f.slice(2)]));
      if (!fields.r.startsWith(nonce)) throw new Error('server nonce does not extend ours');
      const salted = crypto.pbkdf2Sync(password, Buffer.from(fields.s, 'base64'), Number(fields.i), 32, 'sha256');
      const clientKey = hmac(salted, 'Client Key');
      const storedKey = crypto.createHash('sha256').update(clientKey).digest();
      const withoutProof = `c=biws,r=${fields.r}`;
      const authMessage = `${bare},${serverFirst.toString()},${withoutProof}`;
      const signature = hmac(storedKey, authMessage);
      const proof = Buffer.from(clientKey.map((b, i) => b ^ signature[i]));
      state.serverSignature = hmac(hmac(salted, 'Server Key'), authMessage);
      return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`);
    },
    verified(serverFinal) {
      return !!state.serverSignature && !!serverFinal &&
        serverFinal.toString() === `v=${state.serverSignature.toString('base64')}`;
    },
  };
}

const scram = cfg.scram ? scramClient(cfg.scram.user, cfg.scram.password) : null;
const connectProperties = encodeProps(cfg.connectProperties) || {};
if (scram) {
  connectProperties.authenticationMethod = 'SCRAM-SHA-256';
  connectProperties.authenticationData = scram.clientFirst;
}

const client = mqtt.connect(cfg.url, {
  protocolVersion: cfg.protocolVersion || 4,
  clientId: cfg.clientId,
  clean: cfg.clean !== false,
  reconnectPeriod: 0,
  connectTimeout: 5000,
  properties: Object.keys(connectProperties).length ? connectProperties : undefined,
});

if (scram) {
  client.handleAuth = (packet, callback) => {
    out({ event: 'auth', reasonCode: packet.reasonCode, properties: decodeProps(packet.properties) });
    try {
      callback(null, {
        cmd: 'auth',
        reasonCode: 24,
        properties: {
          authenticationMethod: 'SCRAM-SHA-256',
          authenticationData: scram.clientFinal(packet.properties.authenticationData),
        },
      });
    } catch (err) {
      callback(err);
    }
  };
}

let received = 0;
const expect = cfg.expect || 0;
let published = false;
let done = false;

function maybeDone() {
  if (!done && received >= expect && published) {
    done = true;
    clearTimeout(timer);
    out({ event: 'done' });
    // the test's part is over: whatever happens while closing is not its result
    setTimeout(() => process.exit(0), 2000);
    client.end(false, {}, () => process.exit(0));
  }
}

client.on('error', (err) => {
  if (done) return;
  out({ event: 'error', message: String(err && err.message), code: err && err.code });
  process.exit(1);
});

client.on('message', (topic, payload, packet) => {
  received += 1;
  out({
    event: 'message',
    topic,
    payload_b64: payload.toString('base64'),
    qos: packet.qos,
    retain: packet.retain,
    properties: decodeProps(packet.properties),
  });
  maybeDone();
});

client.on('connect', async (connack) => {
  const event = { event: 'connack', sessionPresent: connack.sessionPresent, reasonCode: connack.reasonCode || 0,
                  properties: decodeProps(connack.properties) };
  if (scram) event.scramServerVerified = scram.verified(connack.properties && connack.properties.authenticationData);
  out(event);
  try {
    for (const s of cfg.subscribe || []) {
      const opts = { qos: s.qos || 0 };
      if (s.nl !== undefined) opts.nl = s.nl;
      if (s.rap !== undefined) opts.rap = s.rap;
      if (s.rh !== undefined) opts.rh = s.rh;
      if (s.properties) opts.properties = encodeProps(s.properties);
      const granted = await client.subscribeAsync(s.topic, opts);
      out({ event: 'subscribed', topic: s.topic, granted: granted.map((g) => g.qos) });
    }
    const pubs = cfg.publish || [];
    for (let i = 0; i < pubs.length; i += 1) {
      const p = pubs[i];
      await client.publishAsync(p.topic, Buffer.from(p.payload_b64 || '', 'base64'), {
        qos: p.qos || 0,
        retain: !!p.retain,
        properties: encodeProps(p.properties),
      });
      out({ event: 'published', index: i });
    }
    published = true;
    maybeDone();
  } catch (err) {
    out({ event: 'error', message: String(err && err.message) });
    process.exit(1);
  }
});
