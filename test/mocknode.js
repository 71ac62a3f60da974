#!/usr/bin/env node
// mocknode.js - a tiny mock Bitcoin node for the pool benchmark (no npm).
//
//   node test/mocknode.js [--port 18332] [--ntx 4000] [--txbytes 150]
//
// JSON-RPC over HTTP/1.1 keep-alive, any credentials: getblockchaininfo
// (chain "main", so a mainnet difficulty: bits 17034219 means no test share
// is ever a block), getblocktemplate (ntx transactions of txbytes bytes of
// plausible legacy-tx hex, real txids; long poll: a call with the current
// longpollid is held until the next block), getbestblockhash, getblockhash,
// submitblock (null, counted).  A new block (new previousblockhash, held
// long polls answered) on SIGUSR2 or on a request to /newblock, which
// answers "<height> <ms since the epoch when the long polls were written>".
// /stats answers the call counts, the long polls held and the height.
'use strict';
const http = require('http');
const crypto = require('crypto');

const arg = (name, def) => {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const port = arg('port', 18332);
const ntx = arg('ntx', 4000);
const txbytes = Math.max(arg('txbytes', 150), 120);

const sha256d = (b) => crypto.createHash('sha256')
  .update(crypto.createHash('sha256').update(b).digest()).digest();
const display = (b) => Buffer.from(b).reverse().toString('hex');

// One input (random prevout, a P2PKH-sized scriptSig padded to txbytes),
// two P2PKH outputs: parses as a transaction, txid = SHA-256d of it.
function makeTx(i) {
  const sigLen = txbytes - 10 - 41 - 2 * 34;
  const b = Buffer.alloc(txbytes);
  let o = b.writeUInt32LE(2, 0);
  o = b.writeUInt8(1, o);
  crypto.randomBytes(32).copy(b, o); o += 32;
  o = b.writeUInt32LE(i & 3, o);
  o = b.writeUInt8(sigLen, o);
  crypto.randomBytes(sigLen).copy(b, o); o += sigLen;
  o = b.writeUInt32LE(0xfffffffd, o);
  o = b.writeUInt8(2, o);
  for (let k = 0; k < 2; k++) {
    o = b.writeBigUInt64LE(BigInt(10000 + i * 7 + k), o);
    Buffer.from('1976a914' + crypto.randomBytes(20).toString('hex') + '88ac',
      'hex').copy(b, o); o += 26;
  }
  b.writeUInt32LE(0, o);
  const txid = display(sha256d(b));
  return { data: b.toString('hex'), txid, hash: txid, depends: [],
    fee: 1000 + i, sigops: 4, weight: 4 * txbytes };
}

const txs = [];
for (let i = 0; i < ntx; i++) txs.push(makeTx(i));
const txJson = JSON.stringify(txs);
const fees = txs.reduce((s, t) => s + t.fee, 0);

let height = 900000;
let cur = null;		// { prev, lpid, buf }: the template the node has now
let next = null;	// the next block's, built ahead so announcing is quick
const counts = { gbt: 0, longpoll: 0, proposal: 0, submitblock: 0, other: 0,
  blocks: 0 };
const held = [];	// [res, id] of long polls waiting for the next block

function build(h) {
  const prev = '00000000000000000001' + crypto.randomBytes(22).toString('hex');
  const now = Math.floor(Date.now() / 1000);
  const head = { capabilities: ['proposal'], version: 0x20000000,
    rules: ['csv', '!segwit', 'taproot'], vbavailable: {}, vbrequired: 0,
    previousblockhash: prev, coinbaseaux: {}, coinbasevalue: 312500000 + fees,
    longpollid: prev + h, target: '0'.repeat(18) + '034219' +
    '0'.repeat(40), mintime: now - 3600, mutable: ['time', 'transactions',
    'prevblock'], noncerange: '00000000ffffffff', sigoplimit: 80000,
    sizelimit: 4000000, weightlimit: 4000000, curtime: now, bits: '17034219',
    height: h, default_witness_commitment: '6a24aa21a9ed' +
    crypto.randomBytes(32).toString('hex') };
  const json = JSON.stringify(head).slice(0, -1) + ',"transactions":' +
    txJson + '}';
  return { prev, lpid: prev + h, buf: Buffer.from('{"result":' + json) };
}

// result is a string of JSON, or a prebuilt Buffer '{"result":...'.
function send(res, id, result, errJson) {
  const head = Buffer.isBuffer(result) ? result :
    Buffer.from('{"result":' + result);
  const tail = ',"error":' + (errJson || 'null') + ',"id":' +
    JSON.stringify(id === undefined ? null : id) + '}\n';
  res.writeHead(200, { 'Content-Type': 'application/json',
    'Content-Length': head.length + Buffer.byteLength(tail) });
  res.write(head);
  res.end(tail);
}

function announce() {
  height++;
  counts.blocks++;
  cur = next;
  const waiting = held.splice(0);
  for (const [res, id] of waiting) send(res, id, cur.buf);
  const at = Date.now();
  setImmediate(() => { next = build(height + 1); });
  return [waiting.length, at];
}

function rpc(req, res, body) {
  let m;
  try { m = JSON.parse(body); } catch (e) {
    return send(res, null, 'null', '{"code":-32700,"message":"parse error"}');
  }
  const p = Array.isArray(m.params) ? m.params : [];
  const o = p[0] && typeof p[0] === 'object' ? p[0] : {};
  switch (m.method) {
  case 'getblockchaininfo':
    counts.other++;
    return send(res, m.id, JSON.stringify({ chain: 'main',
      blocks: height - 1, headers: height - 1, bestblockhash: cur.prev,
      initialblockdownload: false, verificationprogress: 1 }));
  case 'getblocktemplate':
    if (o.mode === 'proposal') { counts.proposal++; return send(res, m.id, 'null'); }
    if (o.longpollid !== undefined && o.longpollid === cur.lpid) {
      counts.longpoll++;
      held.push([res, m.id]);
      res.on('close', () => {	// a pool that went away polls no more
        const k = held.findIndex((h) => h[0] === res);
        if (k >= 0) held.splice(k, 1);
      });
      return undefined;
    }
    counts.gbt++;
    return send(res, m.id, cur.buf);
  case 'getbestblockhash':
  case 'getblockhash':
    counts.other++;
    return send(res, m.id, JSON.stringify(cur.prev));
  case 'submitblock':
    counts.submitblock++;
    return send(res, m.id, 'null');
  default:
    return send(res, m.id, 'null',
      '{"code":-32601,"message":"Method not found"}');
  }
}

cur = build(height);
next = build(height + 1);
const server = http.createServer((req, res) => {
  if (req.url === '/newblock') {
    const [n, at] = announce();
    res.end(height + ' ' + n + ' ' + at + '\n');
    return;
  }
  if (req.url === '/stats') {
    res.end(JSON.stringify(Object.assign({ held: held.length, height },
      counts)) + '\n');
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => rpc(req, res, Buffer.concat(chunks).toString()));
});
server.keepAliveTimeout = 0;	// keep idle sockets: the pool reuses them
server.requestTimeout = 0;	// long polls are held for as long as it takes
server.headersTimeout = 0;
server.timeout = 0;
process.on('SIGUSR2', announce);
process.on('SIGTERM', () => process.exit(0));
server.listen(port, '127.0.0.1', () => {
  console.log(`mocknode: port ${port}, ${ntx} txs, template ` +
    `${cur.buf.length - 10} bytes, height ${height}`);
});
