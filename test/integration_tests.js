'use strict';
// integration_tests.js - the cases run by integration.js, in order.  Each
// starts what it needs (pools are killed after each test by the runner).

const fs = require('fs');
const crypto = require('crypto');
const path = require('path');
const { spawnSync } = require('child_process');
const T = require('./integration.js');
const { check, sleep, rpc, wallet, startPool, Client, Proc, findNonce, hex8 } = T;

const EN2 = '0000000000000000';

// A Bitcoin Core-style regtest address (base58, version 0x6f) for a random
// key hash: bcoin would spell it differently, so blocks paying it prove the
// pool compares output scripts, not strings.
function coreStyleAddress() {
	const hash = crypto.randomBytes(20);
	const payload = Buffer.concat([Buffer.from([0x6f]), hash]);
	const check = T.sha256d(payload).subarray(0, 4);
	let n = BigInt('0x' + Buffer.concat([payload, check]).toString('hex'));
	const A = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
	let s = '';
	while (n > 0n) { s = A[Number(n % 58n)] + s; n /= 58n; }
	return { addr: s, script: '76a914' + hash.toString('hex') + '88ac' };
}

// Mine past segwit activation (bcoin: 432 blocks on regtest) to the wallet's
// address (bcoin 1.0.2's getnewaddress is broken: getaccountaddress works),
// whose coins later pay for mempool transactions.
async function prepareChain() {
	const addr = await wallet('getaccountaddress', ['default']);
	const info = await rpc('validateaddress', [addr]);
	await rpc('generatetoaddress', [440, addr], 120000);
	const o = coreStyleAddress();
	return { addr, script: info.scriptPubKey, other: o.addr, otherScript: o.script };
}

async function tip() {
	const hash = await rpc('getbestblockhash', []);
	return rpc('getblock', [hash, true, true]);
}

function coinbaseScripts(block) {
	const cb = block.tx[0];
	return cb.vout.map((o) => o.scriptPubKey.hex);
}

function errCode(reply) {
	return reply && Array.isArray(reply.error) ? reply.error[0] : null;
}

async function submitNonce(c, job, nonce, opts = {}) {
	const p = job.params;
	const params = [opts.worker || 'w', p[0], opts.en2 || EN2, opts.ntime || p[7],
		opts.nonceHex || hex8(nonce)];
	if (opts.version !== undefined) params.push(opts.version);
	return c.call('mining.submit', params);
}

const list = [];
const test = (name, fn) => list.push([name, fn]);

test('handshake: subscribe, authorize, set_difficulty, notify', async (a) => {
	const pool = await startPool();
	const c = new Client(pool.port);
	await c.ready;
	const sub = await c.call('mining.subscribe', ['cpuminer/2.5.1']);
	check(c.lines[0] === sub, 'the subscribe reply is the first line');
	check(sub && sub.error === null && Array.isArray(sub.result), 'subscribe result');
	const [subs, en1, en2size] = sub.result;
	check(Array.isArray(subs) && subs[0][0] === 'mining.set_difficulty' &&
		subs[1][0] === 'mining.notify', 'subscriptions listed');
	check(/^[0-9a-f]{8}$/.test(en1), 'extranonce1 is 4 bytes of hex');
	check(en2size === 8, 'extranonce2_size 8 as a JSON integer');
	const auth = await c.call('mining.authorize', [a.addr + '.rig1', 'x']);
	check(auth && auth.result === true && auth.error === null, 'authorize true, error null');
	const between = c.lines.slice(1, c.lines.indexOf(auth));
	check(between.every((m) => m.method === 'mining.set_difficulty' || m.method === 'mining.notify'),
		'only set_difficulty/notify between subscribe and authorize replies');
	const sd = await c.next((m) => m.method === 'mining.set_difficulty');
	const nt = await c.next((m) => m.method === 'mining.notify');
	check(sd && sd.params[0] === 0.001 && sd.id === null, 'set_difficulty 0.001 with id null');
	check(c.lines.indexOf(sd) < c.lines.indexOf(nt), 'set_difficulty before notify');
	const p = nt.params;
	check(p.length === 9 && typeof p[0] === 'string' && /^[0-9a-f]{64}$/.test(p[1]) &&
		typeof p[2] === 'string' && typeof p[3] === 'string' && Array.isArray(p[4]) &&
		/^[0-9a-f]{8}$/.test(p[5]) && /^[0-9a-f]{8}$/.test(p[6]) && /^[0-9a-f]{8}$/.test(p[7]) &&
		p[8] === true, 'notify has 9 params of the right types, clean=true');
	const best = await rpc('getbestblockhash', []);
	const words = best.match(/.{8}/g).reverse().join('');
	check(p[1] === words, 'prevhash is the node tip in stratum word order');
	c.close();
});

test('version rolling: configure, mask intersection, unknown extensions', async () => {
	const pool = await startPool();
	const c = new Client(pool.port);
	await c.ready;
	const r = await c.call('mining.configure', [['version-rolling', 'minimum-difficulty', 'x-unknown'],
		{ 'version-rolling.mask': 'ffffffff', 'version-rolling.min-bit-count': 2,
			'minimum-difficulty.value': 0.002 }]);
	check(r && r.error === null && r.result['version-rolling'] === true &&
		r.result['version-rolling.mask'] === '1fffe000', 'mask 1fffe000 for ffffffff');
	check(r && r.result['x-unknown'] === false, 'unknown extension answered false');
	check(r && r.result['minimum-difficulty'] === true, 'minimum-difficulty accepted');
	const d = new Client(pool.port);
	await d.ready;
	const r2 = await d.call('mining.configure', [['version-rolling'], { 'version-rolling.mask': '00ffe000' }]);
	check(r2 && r2.result['version-rolling.mask'] === '00ffe000', 'mask intersected with the miner\'s');
	c.close();
	d.close();
});

test('a block found through the pool pays the miner and is accepted', async (a) => {
	const pool = await startPool();
	const c = await new Client(pool.port).handshake(a.other);
	const h0 = await rpc('getblockcount', []);
	const nonce = findNonce(c.job, c.en1, EN2, parseInt(c.job.params[7], 16), true);
	const r = await submitNonce(c, c.job, nonce);
	check(r && r.result === true && r.error === null, 'block share accepted: ' + JSON.stringify(r));
	let h1 = h0;
	for (let i = 0; i < 50 && h1 === h0; i++) { await sleep(100); h1 = await rpc('getblockcount', []); }
	check(h1 === h0 + 1, `block count rose (${h0} -> ${h1})`);
	const b = await tip();
	check(coinbaseScripts(b)[0] === a.otherScript, 'coinbase pays the miner\'s own address');
	check(await pool.waitFor(/BLOCK ACCEPTED/, 5000), 'pool confirms the block');
	const again = await submitNonce(c, c.job, nonce);
	check(errCode(again) === 22, 'the same share again is a duplicate (22): ' + JSON.stringify(again));
	c.close();
});

test('reject codes 20-25, unknown methods, ids echoed', async (a) => {
	const pool = await startPool();
	const c = new Client(pool.port);
	await c.ready;
	let r = await c.call('mining.submit', ['w', '1', EN2, '00000000', '00000000']);
	check(errCode(r) === 25, 'submit before subscribe: 25');
	await c.call('mining.subscribe', []);
	r = await c.call('mining.submit', ['w', '1', EN2, '00000000', '00000000']);
	check(errCode(r) === 24, 'submit before authorize: 24');
	r = await c.call('mining.authorize', ['not-an-address', 'x']);
	check(errCode(r) === 24 && r.result === false, 'unknown user without btc_address: 24');
	await c.call('mining.authorize', [a.addr, 'x']);
	const job = await c.next((m) => m.method === 'mining.notify');
	const en1 = c.lines.find((m) => m.id === 2).result[1];
	const ntime = parseInt(job.params[7], 16);
	r = await submitNonce(c, { params: ['ffffff00'].concat(job.params.slice(1)) }, 0);
	check(errCode(r) === 21, 'unknown job: 21');
	r = await submitNonce(c, job, 0, { en2: '0000' });
	check(errCode(r) === 20, 'extranonce2 of the wrong size: 20');
	let n = findNonce(job, en1, EN2, ntime + 8000, false);
	r = await submitNonce(c, job, n, { ntime: hex8(ntime + 8000) });
	check(errCode(r) === 20 && /ntime/.test(r.error[1]), 'ntime too far ahead: 20');
	r = await submitNonce(c, job, 0, { version: '00002000' });
	check(errCode(r) === 20, 'version bits without negotiation: 20');
	n = findNonce(job, en1, EN2, ntime, false);
	r = await c.call('mining.suggest_difficulty', [1e6]);
	check(r && r.result === true, 'suggest_difficulty answered');
	const job2 = await c.next((m) => m.method === 'mining.notify' && m.params[0] !== job.params[0]);
	check(job2 && job2.params[8] === false, 're-issued job after the difficulty change, clean=false');
	const n2 = findNonce(job2, en1, EN2, ntime, false);
	r = await submitNonce(c, job2, n2);
	check(errCode(r) === 23, 'low difficulty: 23');
	r = await c.call('mining.nonsense', []);
	check(errCode(r) === 20, 'unknown method: error 20');
	c.send('mining.extranonce.subscribe', [], 'abc"d');
	r = await c.reply('abc"d');
	check(r && r.result === true, 'string id with a quote echoed exactly');
	c.sendRaw('{"id":null,"method":"mining.get_transactions","params":["1"]}\n');
	r = await c.next((m) => m.id === null && m.error);
	check(r && errCode(r) === 20, 'get_transactions: an error reply, id null');
	c.sendRaw('{"id": 77, "method": "mining.subscribe", "params": [}\n');
	r = await c.next((m) => m.error && m.id === null && /JSON/.test(m.error[1]));
	check(r !== null, 'broken JSON: an error reply');
	r = await c.call('mining.extranonce.subscribe', []);
	check(r && r.result === true && !c.closed, 'still connected after bad lines');
	c.close();
});

test('garbage first line and over-long lines are dropped, pool keeps serving', async (a) => {
	const pool = await startPool({ stratum: { max_line: 1024 } });
	const tls = new Client(pool.port);
	await tls.ready;
	tls.sendRaw(Buffer.from('16030100a5010000a10303\n\x00\x01binary\n', 'latin1'));
	await tls.next(() => false, 2000);
	check(tls.closed, 'TLS-like first line: connection closed');
	const big = new Client(pool.port);
	await big.ready;
	await big.call('mining.subscribe', []);
	big.sendRaw('{"id":1,"method":"' + 'x'.repeat(2000));
	await big.next(() => false, 2000);
	check(big.closed, 'line over max_line: connection closed');
	const ok = await new Client(pool.port).handshake(a.addr);
	check(ok.auth.result === true, 'a new miner is served afterwards');
	ok.close();
});

test('new block from the node: clean notify within 1 s, old jobs stale', async (a) => {
	const pool = await startPool();
	const c = await new Client(pool.port).handshake(a.addr);
	const old = c.job;
	const before = c.lines.length;
	const t0 = Date.now();
	await rpc('generatetoaddress', [1, a.addr]);
	const t1 = Date.now();
	const nt = await c.next((m) => m.method === 'mining.notify' && m.params[8] === true, 3000, before);
	const t2 = Date.now();
	check(nt !== null, 'clean notify after generatetoaddress');
	check(nt && t2 - t1 <= 1000, `notify ${t2 - t1} ms after the RPC returned (${t1 - t0} ms to mine)`);
	const ntime = parseInt(old.params[7], 16);
	const n = findNonce(old, c.en1, EN2, ntime, false);
	const r = await submitNonce(c, old, n);
	check(errCode(r) === 21, 'share on the old block\'s job: 21 stale');
	c.close();
});

test('several miners get distinct extranonce1, sessions resume', async (a) => {
	const pool = await startPool();
	const cs = [];
	for (let i = 0; i < 6; i++) cs.push(await new Client(pool.port).handshake(a.addr + '.w' + i));
	check(new Set(cs.map((c) => c.en1)).size === 6, 'six distinct extranonce1');
	const en1 = cs[0].en1;
	cs[0].close();
	await sleep(300);
	const again = new Client(pool.port);
	await again.ready;
	const sub = await again.call('mining.subscribe', ['x', en1]);
	check(sub && sub.result[1] === en1, 'session id resumes its extranonce1');
	for (const c of cs) c.close();
	again.close();
});

test('difficulty: suggest (number, float, string), target, vardiff up', async (a) => {
	const pool = await startPool({ difficulty: { target_share_seconds: 5 } });
	const c = await new Client(pool.port).handshake(a.addr);
	for (const [v, want] of [[0.5, 0.5], ['0.25', 0.25], [1e-5, 1e-5]]) {
		const from = c.lines.length;
		await c.call('mining.suggest_difficulty', [v]);
		await sleep(1100);	// re-issues are limited to one a second
		const sd = await c.next((m) => m.method === 'mining.set_difficulty', 3000, from);
		check(sd && sd.params[0] === want, `suggest ${JSON.stringify(v)} -> set_difficulty ${want}`);
	}
	const from = c.lines.length;
	await c.call('mining.suggest_target', ['00000000ffff0000000000000000000000000000000000000000000000000000']);
	const sd = await c.next((m) => m.method === 'mining.set_difficulty', 3000, from);
	check(sd && Math.abs(sd.params[0] - 1) < 1e-9, 'suggest_target of diff 1');
	c.close();
	// The C miner asks for 1e-5 and then finds shares far faster than
	// every 5 s: vardiff must raise its difficulty, within the window.
	const m = new Proc(T.MINER_BIN, ['-o', '127.0.0.1:' + pool.port, '-u', a.addr, '-n', '400',
		'-t', '10', '--suggest-diff', '0.00001'], 'miner');
	await m.exited;
	const diffs = [...m.out.matchAll(/difficulty ([0-9.e+-]+)/g)].map((x) => Number(x[1]));
	const at = diffs.indexOf(1e-5);
	check(at >= 0 && Math.max(...diffs.slice(at)) > 1e-4,
		'vardiff raised the difficulty: ' + diffs.join(' '));
});

test('the C test miner finds blocks the node accepts (plain, rolling, nerd)', async (a) => {
	const pool = await startPool({ difficulty: { start_difficulty: 1e-6 } });
	for (const mode of [[], ['--rolling'], ['--nerd'], ['--bitaxe']]) {
		const h0 = await rpc('getblockcount', []);
		const m = new Proc(T.MINER_BIN, ['-o', '127.0.0.1:' + pool.port, '-u', a.other + '.c',
			'-n', '3', '-t', '30', ...mode], 'miner');
		const code = await m.exited;
		check(code === 0, `miner ${mode.join(' ') || 'plain'} exited 0: ${m.out.slice(-300)}`);
		await sleep(500);
		const h1 = await rpc('getblockcount', []);
		check(h1 > h0, `blocks accepted by the node with ${mode.join(' ') || 'plain'} (${h0} -> ${h1})`);
		const b = await tip();
		check(coinbaseScripts(b)[0] === a.otherScript, 'coinbase pays the miner');
	}
	check(!/NODE REJECTS/.test(pool.out), 'proposal checks passed');
});

test('mempool transactions go into the block', async (a) => {
	const pool = await startPool();
	// bcoin rebuilds its cached template for a new mempool transaction
	// only when the transaction comes more than 10 s after the template
	// was built; the long poll then wakes the pool.
	await sleep(10500);
	const from = pool.out.length;
	const txid = await wallet('sendtoaddress', [a.addr, 1.5]);
	const woke = await pool.waitFor(/jobs sent/, 5000, from);
	check(woke !== null, 'the long poll brought the new template');
	const c = await new Client(pool.port).handshake(a.addr);
	check(c.job.params[4].length >= 1, 'the job has a merkle branch');
	const nonce = findNonce(c.job, c.en1, EN2, parseInt(c.job.params[7], 16), true);
	const r = await submitNonce(c, c.job, nonce);
	check(r && r.result === true, 'block share accepted');
	await sleep(500);
	const b = await tip();
	check(b.tx.some((t) => (t.txid || t.hash || t) === txid), 'the block holds the wallet\'s transaction');
	c.close();
});

test('pool survives a node restart', async (a) => {
	const pool = await startPool();
	const c = await new Client(pool.port).handshake(a.addr);
	T.stopNode();
	await sleep(3000);
	check(pool.code === undefined, 'pool still running with the node down');
	const r = await c.call('mining.extranonce.subscribe', []);
	check(r && r.result === true, 'miner still served with the node down');
	const from = c.lines.length;
	T.startNode();
	await rpc('generatetoaddress', [1, a.addr]);
	const nt = await c.next((m) => m.method === 'mining.notify' && m.params[8] === true, 15000, from);
	check(nt !== null, 'clean job after the node came back');
	c.close();
	// The node keeps its chain in memory: rebuild what later tests need.
	await rpc('generatetoaddress', [440, a.addr], 120000);
});

test('stratum -t checks the node and the address', async (a) => {
	const conf = path.join(T.TMP, 't.ini');
	const cfg = fs.readFileSync((await startPool()).conf, 'utf8');
	fs.writeFileSync(conf, cfg.replace('btc_address = ', 'btc_address = ' + a.addr));
	const bin = process.env.POOL_BIN || path.resolve(__dirname, '..', 'stratum');
	let r = spawnSync(bin, ['-t', '-c', conf], { encoding: 'utf8', timeout: 30000 });
	check(r.status === 0 && /^ok: /m.test(r.stdout), '-t ok: ' + r.stdout + r.stderr);
	fs.writeFileSync(conf, cfg.replace('rpcpassword = PASS', 'rpcpassword = wrong'));
	r = spawnSync(bin, ['-t', '-c', conf], { encoding: 'utf8', timeout: 30000 });
	check(r.status === 1 && /credentials/.test(r.stderr), '-t with a wrong password fails clearly');
	fs.writeFileSync(conf, cfg.replace('btc_address = ', 'btc_address = bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4'));
	r = spawnSync(bin, ['-t', '-c', conf], { encoding: 'utf8', timeout: 30000 });
	check(r.status === 1 && /btc_address/.test(r.stderr), '-t with a mainnet address fails clearly');
});

module.exports = { list, prepareChain };
