'use strict';
// integration_faults.js - the pool when its node misbehaves: down at start,
// gone mid-run, stalled, answering garbage, down while a block is found;
// and with two nodes, one of which is stopped mid-run.
//
// Faults are made by a TCP proxy between the pool and the real node, so
// the node keeps its chain while the pool sees it vanish.

const fs = require('fs');
const net = require('net');
const path = require('path');
const T = require('./integration.js');
const { check, sleep, rpc, startPool, Client, findNonce, hex8 } = T;

const EN2 = '0000000000000000';

// mode: 'up' forwards, 'down' refuses (listener closed, connections cut),
// 'stall' accepts and never answers, 'garbage' answers junk.
class Proxy {
	constructor(target) {
		this.target = target;
		this.mode = 'up';
		this.socks = new Set();
	}
	async start() {
		this.port = await T.freePort();
		await this.listen();
		return this;
	}
	listen() {
		this.server = net.createServer((c) => this.accept(c));
		return new Promise((r) => this.server.listen(this.port, '127.0.0.1', r));
	}
	accept(c) {
		this.socks.add(c);
		c.on('close', () => this.socks.delete(c));
		c.on('error', () => {});
		if (this.mode === 'stall') return;
		if (this.mode === 'garbage') {
			c.on('data', () => c.end('SSH-2.0-nonsense\r\n\r\n\x00\x01\x02'));
			return;
		}
		const up = net.connect(this.target, '127.0.0.1');
		this.socks.add(up);
		up.on('close', () => { this.socks.delete(up); c.destroy(); });
		up.on('error', () => c.destroy());
		c.on('close', () => up.destroy());
		c.pipe(up);
		up.pipe(c);
	}
	async set(mode) {
		const wasDown = this.mode === 'down';
		this.mode = mode;
		for (const s of this.socks) s.destroy();
		this.socks.clear();
		if (mode === 'down') await new Promise((r) => this.server.close(r));
		else if (wasDown) await this.listen();
	}
	stop() { for (const s of this.socks) s.destroy(); this.server.close(); }
}

function viaProxy(proxy, extra = {}) {
	return Object.assign({ 'bitcoin.conf': { port: proxy.port, rpc_timeout: 2 } }, extra);
}

const list = [];
const test = (name, fn) => list.push([name, fn]);

test('node down at start: the pool waits, logs once, serves when it comes up', async (a) => {
	const proxy = await new Proxy(T.RPC_PORT).start();
	await proxy.set('down');
	const pool = await startPool(viaProxy(proxy), false);
	await sleep(3500);
	const fails = (pool.out.match(/getblockchaininfo failed/g) || []).length;
	check(pool.code === undefined, 'pool runs without its node');
	check(fails === 1, `one log line for the node being down, not one per try (${fails})`);
	const early = new Client(pool.port);
	await early.ready;
	await early.call('mining.subscribe', []);
	const auth = await early.call('mining.authorize', [a.addr, 'x']);
	check(auth && auth.error && auth.error[0] === 20 && /node/.test(auth.error[1]),
		'authorize before the node is up: a clear error 20');
	early.close();
	await proxy.set('up');
	check(await pool.waitFor(/new block/, 8000) !== null, 'templates once the node is reachable');
	const c = await new Client(pool.port).handshake(a.addr);
	check(c.auth.result === true && c.job !== null, 'miners served after the node came up');
	c.close();
	proxy.stop();
});

test('node gone mid-run, stalled, answering garbage: miners stay served', async (a) => {
	const proxy = await new Proxy(T.RPC_PORT).start();
	const pool = await startPool(viaProxy(proxy));
	const c = await new Client(pool.port).handshake(a.addr);
	for (const mode of ['down', 'stall', 'garbage']) {
		const from = pool.out.length;
		await proxy.set(mode);
		process.kill(pool.p.pid, 'SIGUSR1');	// make it call the node now
		await sleep(mode === 'stall' ? 2500 : 800);
		const t0 = Date.now();
		const r = await c.call('mining.extranonce.subscribe', [], 2000);
		check(r && r.result === true && Date.now() - t0 < 500,
			`${mode}: the loop still answers miners (${Date.now() - t0} ms)`);
		check(pool.code === undefined, `${mode}: pool still running`);
		if (mode === 'stall')
			check(await pool.waitFor(/no reply within/, 3000, from) !== null,
				'stalled node: the call times out');
		if (mode === 'garbage')
			check(await pool.waitFor(/failed/, 3000, from) !== null, 'garbage: a logged failure');
	}
	const from = c.lines.length;
	await proxy.set('up');
	await rpc('generatetoaddress', [1, a.addr]);
	const nt = await c.next((m) => m.method === 'mining.notify' && m.params[8] === true, 8000, from);
	check(nt !== null, 'work resumes when the node is back');
	c.close();
	proxy.stop();
});

test('a block found while the node is down is kept on disk and submitted later', async (a) => {
	const proxy = await new Proxy(T.RPC_PORT).start();
	const dataDir = path.join(T.TMP, 'data-down');
	const pool = await startPool(viaProxy(proxy, { stratum: { data_dir: dataDir } }));
	const c = await new Client(pool.port).handshake(a.other);
	const h0 = await rpc('getblockcount', []);
	await proxy.set('down');
	const nonce = findNonce(c.job, c.en1, EN2, parseInt(c.job.params[7], 16), true);
	const r = await c.call('mining.submit', ['w', c.job.params[0], EN2, c.job.params[7], hex8(nonce)]);
	check(r && r.result === true, 'the block share is accepted');
	await sleep(1500);
	const files = fs.readdirSync(dataDir).filter((f) => /^block-.*\.hex$/.test(f));
	check(files.length === 1, 'the block is on disk before the node has it: ' + files.join(' '));
	check(await rpc('getblockcount', []) === h0, 'the node does not have it yet');
	await proxy.set('up');
	let h1 = h0;
	for (let i = 0; i < 60 && h1 === h0; i++) { await sleep(100); h1 = await rpc('getblockcount', []); }
	check(h1 === h0 + 1, `submitted when the node came back (${h0} -> ${h1})`);
	check(await pool.waitFor(/BLOCK ACCEPTED/, 5000) !== null, 'and confirmed');
	await sleep(300);
	check(fs.readdirSync(dataDir).some((f) => /\.hex\.done$/.test(f)), 'the file is marked done');
	c.close();
	proxy.stop();
});

test('saved blocks the node never judged are submitted at the next start', async (a) => {
	const proxy = await new Proxy(T.RPC_PORT).start();
	const dataDir = path.join(T.TMP, 'data-restart');
	let pool = await startPool(viaProxy(proxy, { stratum: { data_dir: dataDir } }));
	const c = await new Client(pool.port).handshake(a.other);
	const h0 = await rpc('getblockcount', []);
	await proxy.set('down');
	const nonce = findNonce(c.job, c.en1, EN2, parseInt(c.job.params[7], 16), true);
	await c.call('mining.submit', ['w', c.job.params[0], EN2, c.job.params[7], hex8(nonce)]);
	await sleep(500);
	pool.kill('SIGKILL');	// the pool dies before the node ever answered
	await pool.exited;
	c.close();
	await proxy.set('up');
	pool = await startPool(viaProxy(proxy, { stratum: { data_dir: dataDir } }));
	check(await pool.waitFor(/submitting saved block/, 5000) !== null, 'the saved block is found');
	let h1 = h0;
	for (let i = 0; i < 60 && h1 === h0; i++) { await sleep(100); h1 = await rpc('getblockcount', []); }
	check(h1 === h0 + 1, `and accepted by the node (${h0} -> ${h1})`);
	proxy.stop();
});

test('two nodes: blocks go to both, templates fail over when the first stops', async (a) => {
	const base = 20000 + 100 * (process.pid % 40);
	const dirs = [path.join(T.TMP, 'n1'), path.join(T.TMP, 'n2')];
	const ports = [base, base + 10];
	try {
		T.nodeSh('start', dirs[0], String(ports[0]));
		T.nodeSh('start', dirs[1], String(ports[1]));
		const rpcN = (i, m, p) => T.rpcTo(ports[i], m, p);
		const pool = await startPool({
			'bitcoin.conf': { port: ports[0], rpc_timeout: 2 },
			'bitcoin.conf.2': { rpcuser: 'x', rpcpassword: T.PASS, host: '127.0.0.1', port: ports[1] },
		});
		const c = await new Client(pool.port).handshake(a.other);
		let n = findNonce(c.job, c.en1, EN2, parseInt(c.job.params[7], 16), true);
		let r = await c.call('mining.submit', ['w', c.job.params[0], EN2, c.job.params[7], hex8(n)]);
		check(r && r.result === true, 'block share accepted');
		await sleep(1000);
		const counts = [await rpcN(0, 'getblockcount', []), await rpcN(1, 'getblockcount', [])];
		check(counts[0] === 1 && counts[1] === 1, 'the block reached both nodes: ' + counts.join(','));
		const from = pool.out.length;
		T.nodeSh('stop', dirs[0]);
		process.kill(pool.p.pid, 'SIGUSR1');
		check(await pool.waitFor(/templates from node 2/, 8000, from) !== null, 'failover to node 2');
		const lines = c.lines.length;
		const job = await c.next((m) => m.method === 'mining.notify', 8000, lines);
		check(job !== null, 'new jobs from node 2');
		n = findNonce(job, c.en1, EN2, parseInt(job.params[7], 16), true);
		r = await c.call('mining.submit', ['w', job.params[0], EN2, job.params[7], hex8(n)]);
		check(r && r.result === true, 'block share on node 2\'s job accepted');
		let h = 1;
		for (let i = 0; i < 50 && h === 1; i++) { await sleep(100); h = await rpcN(1, 'getblockcount', []); }
		check(h === 2, 'node 2 accepted the block while node 1 is down');
		check(pool.code === undefined, 'pool running');
		c.close();
	} finally {
		T.nodeSh('stop', dirs[0]);
		T.nodeSh('stop', dirs[1]);
	}
});

module.exports = { list };
