'use strict';
// integration.js - the pool end to end: a real regtest node (bcoin 1.0.2,
// started by test/node.sh), the pool binary, the C test miner and raw
// stratum clients written here.  Every wait is bounded; everything started
// is stopped, also on failure.  Ends with "integration: N passed, N failed".
//
//   node test/integration.js BUILD_DIR [filter]
//
// Shares are computed here too (header, coinbase, merkle in JS with node's
// crypto), so tests can pick a nonce that is, or is not, a block: on
// regtest nearly every second hash meets the network target.

const net = require('net');
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');

const ROOT = path.resolve(__dirname, '..');
const BUILD = path.resolve(ROOT, process.argv[2] || 'build');
const FILTER = process.argv[3] || '';
const POOL_BIN = process.env.POOL_BIN || path.join(ROOT, 'stratum');
const MINER_BIN = path.join(BUILD, 'miner');
const LOADGEN_BIN = path.join(BUILD, 'loadgen');
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'stratum-it-'));
const NODE_DIR = path.join(TMP, 'node');
const PASS = 'PASS';
// Set by the first startNode(): node.sh picks free ports outside the
// ephemeral range; a restart reuses them (the pools' configs name them).
let RPC_PORT = 0;
let WALLET_PORT = 0;

let passed = 0;
let failed = 0;
const children = [];

function check(cond, what) {
	if (cond) {
		passed++;
	} else {
		failed++;
		console.error('  FAILED: ' + what);
	}
	return cond;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- the node ---------------------------------------------------------

function rpcTo(port, method, params = [], timeoutMs = 30000) {
	return new Promise((resolve, reject) => {
		const body = JSON.stringify({ jsonrpc: '1.0', id: 1, method, params });
		const req = http.request({
			host: '127.0.0.1', port, path: '/', method: 'POST',
			auth: 'x:' + PASS, timeout: timeoutMs,
			headers: { 'Content-Type': 'application/json',
				'Content-Length': Buffer.byteLength(body) },
		}, (res) => {
			let data = '';
			res.setEncoding('utf8');
			res.on('data', (c) => { data += c; });
			res.on('end', () => {
				let r;
				try { r = JSON.parse(data); } catch (e) {
					return reject(new Error('HTTP ' + res.statusCode + ': ' + data));
				}
				if (r.error) return reject(new Error(method + ': ' + JSON.stringify(r.error)));
				resolve(r.result);
			});
		});
		req.on('timeout', () => { req.destroy(new Error(method + ': timeout')); });
		req.on('error', reject);
		req.end(body);
	});
}
const rpc = (m, p, t) => rpcTo(RPC_PORT, m, p, t);
const wallet = (m, p, t) => rpcTo(WALLET_PORT, m, p, t);

function nodeSh(...args) {
	return execFileSync('sh', [path.join(ROOT, 'test/node.sh'), ...args], {
		env: Object.assign({}, process.env, { NODE_PASS: PASS }),
		encoding: 'utf8', timeout: 90000,
	});
}

function startNode() {
	nodeSh('start', NODE_DIR, RPC_PORT ? String(RPC_PORT) : 'auto');
	const env = fs.readFileSync(path.join(NODE_DIR, 'node.env'), 'utf8');
	RPC_PORT = Number(/NODE_RPC_PORT=(\d+)/.exec(env)[1]);
	WALLET_PORT = Number(/NODE_WALLET_PORT=(\d+)/.exec(env)[1]);
}

function stopNode() {
	try { nodeSh('stop', NODE_DIR); } catch (e) { /* already gone */ }
}

// ---- the pool ---------------------------------------------------------

function freePort() {
	return new Promise((resolve) => {
		const s = net.createServer();
		s.listen(0, '127.0.0.1', () => {
			const port = s.address().port;
			s.close(() => resolve(port));
		});
	});
}

// nofile: ulimit options to start it with, e.g. '-Sn 1024' (node raised
// its own soft limit, which children inherit).
class Proc {
	constructor(bin, args, name, nofile = '') {
		this.name = name;
		this.out = '';
		this.waiters = [];
		let argv = (process.env.POOL_WRAP && name === 'pool' ?
			process.env.POOL_WRAP.split(' ') : []).concat([bin], args);
		if (nofile)
			argv = ['sh', '-c', `ulimit ${nofile} && exec "$@"`, 'sh'].concat(argv);
		this.p = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
		children.push(this);
		const feed = (d) => {
			this.out += d.toString();
			this.waiters = this.waiters.filter((w) => !w());
		};
		this.p.stdout.on('data', feed);
		this.p.stderr.on('data', feed);
		this.exited = new Promise((r) => this.p.on('exit', (code, sig) => {
			this.code = code; this.signal = sig; r(code);
		}));
	}
	// Resolves with the first match of re in the output after offset `from`.
	waitFor(re, ms, from = 0) {
		return new Promise((resolve) => {
			const t = setTimeout(() => resolve(null), ms);
			const test = () => {
				const m = this.out.slice(from).match(re);
				if (m) { clearTimeout(t); resolve(m); return true; }
				return false;
			};
			if (!test()) this.waiters.push(test);
		});
	}
	kill(sig = 'SIGTERM') { if (this.code === undefined) this.p.kill(sig); }
}

function writeConfig(file, port, extra = {}) {
	const s = {
		'bitcoin.conf': { rpcuser: 'x', rpcpassword: PASS, host: 'http://127.0.0.1', port: RPC_PORT },
		difficulty: { start_difficulty: 0.001, min_difficulty: 1e-9, target_share_seconds: 2 },
		address: { btc_address: '' },
		stratum: { host: '127.0.0.1', port, data_dir: path.join(TMP, 'data'), log_level: 'debug',
			update_interval: 30, idle_timeout: 30 },
		api: { port: 0 },
	};
	for (const [sec, kv] of Object.entries(extra)) s[sec] = Object.assign(s[sec] || {}, kv);
	let text = '';
	for (const [sec, kv] of Object.entries(s)) {
		text += `[${sec}]\n`;
		for (const [k, v] of Object.entries(kv)) text += `${k} = ${v}\n`;
	}
	fs.writeFileSync(file, text);
}

async function startPool(extra = {}, waitTemplate = true, nofile = '') {
	const port = await freePort();
	const conf = path.join(TMP, `pool-${port}.ini`);
	writeConfig(conf, port, extra);
	const pool = new Proc(POOL_BIN, ['-c', conf], 'pool', nofile);
	pool.port = port;
	pool.conf = conf;
	if (!await pool.waitFor(/listening for miners/, 10000))
		throw new Error('pool did not start:\n' + pool.out);
	if (waitTemplate && !await pool.waitFor(/new block/, 20000))
		throw new Error('pool got no template:\n' + pool.out);
	return pool;
}

// ---- a stratum client -------------------------------------------------

class Client {
	constructor(port) {
		this.lines = [];
		this.waiters = [];
		this.buf = '';
		this.nextId = 1;
		this.closed = false;
		this.sock = net.connect(port, '127.0.0.1');
		this.sock.setEncoding('utf8');
		this.sock.on('data', (d) => {
			this.buf += d;
			let i;
			while ((i = this.buf.indexOf('\n')) >= 0) {
				const line = this.buf.slice(0, i);
				this.buf = this.buf.slice(i + 1);
				let msg;
				try { msg = JSON.parse(line); } catch (e) { msg = { bad: line }; }
				this.lines.push(msg);
			}
			this.waiters = this.waiters.filter((w) => !w());
		});
		const end = () => { this.closed = true; this.waiters = this.waiters.filter((w) => !w()); };
		this.sock.on('close', end);
		this.sock.on('error', end);
		this.ready = new Promise((r) => this.sock.on('connect', r));
	}
	sendRaw(text) { this.sock.write(text); }
	send(method, params, id) {
		if (id === undefined) id = this.nextId++;
		this.sock.write(JSON.stringify({ id, method, params }) + '\n');
		return id;
	}
	// The first message (from index `from` on) for which pred holds.
	next(pred, ms = 5000, from = 0) {
		return new Promise((resolve) => {
			const t = setTimeout(() => resolve(null), ms);
			const test = () => {
				for (let i = from; i < this.lines.length; i++)
					if (pred(this.lines[i])) { clearTimeout(t); resolve(this.lines[i]); return true; }
				if (this.closed) { clearTimeout(t); resolve(null); return true; }
				return false;
			};
			if (!test()) this.waiters.push(test);
		});
	}
	reply(id, ms) { return this.next((m) => m.id === id && m.method === undefined, ms); }
	async call(method, params, ms) { return this.reply(this.send(method, params), ms); }
	notifies() { return this.lines.filter((m) => m.method === 'mining.notify'); }
	async handshake(user, extra = {}) {
		await this.ready;
		if (extra.configure) await this.call('mining.configure', extra.configure);
		this.sub = await this.call('mining.subscribe', ['itest/1.0']);
		this.en1 = this.sub.result[1];
		this.en2size = this.sub.result[2];
		this.auth = await this.call('mining.authorize', [user, 'x']);
		this.job = await this.next((m) => m.method === 'mining.notify');
		return this;
	}
	close() { this.sock.destroy(); }
}

// ---- shares computed here -------------------------------------------------

const sha256d = (b) => crypto.createHash('sha256').update(
	crypto.createHash('sha256').update(b).digest()).digest();

function u32le(v) { const b = Buffer.alloc(4); b.writeUInt32LE(v >>> 0); return b; }

// The header a share stands for, from the notify params alone.
function shareHash(notify, en1, en2, ntime, nonce, version) {
	const [, prevS, cb1, cb2, branch, verS, bitsS] = notify.params;
	const coinbase = Buffer.from(cb1 + en1 + en2 + cb2, 'hex');
	let root = sha256d(coinbase);
	for (const b of branch) root = sha256d(Buffer.concat([root, Buffer.from(b, 'hex')]));
	const prevWords = Buffer.from(prevS, 'hex');
	const prev = Buffer.alloc(32);
	for (let i = 0; i < 8; i++)
		for (let j = 0; j < 4; j++) prev[4 * i + j] = prevWords[4 * i + 3 - j];
	const header = Buffer.concat([u32le(version === undefined ? parseInt(verS, 16) : version),
		prev, root, u32le(ntime), u32le(parseInt(bitsS, 16)), u32le(nonce)]);
	return Buffer.from(sha256d(header)).reverse();	// display order
}

function targetOfBits(bitsHex) {
	const bits = parseInt(bitsHex, 16);
	return BigInt(bits & 0xffffff) << BigInt(8 * ((bits >>> 24) - 3));
}

// A nonce whose hash is (isBlock) or is not a block; bounded search.
function findNonce(notify, en1, en2, ntime, isBlock, start = 0, version) {
	const target = targetOfBits(notify.params[6]);
	for (let n = start; n < start + 100000; n++) {
		const h = BigInt('0x' + shareHash(notify, en1, en2, ntime, n, version).toString('hex'));
		if ((h <= target) === isBlock) return n;
	}
	throw new Error('no nonce found');
}

const hex8 = (v) => (v >>> 0).toString(16).padStart(8, '0');

module.exports = {
	check, sleep, sha256d, rpc, rpcTo, nodeSh, freePort, PASS, wallet, startNode, stopNode, startPool, Client, Proc,
	shareHash, findNonce, hex8, targetOfBits, MINER_BIN, LOADGEN_BIN, TMP, FILTER,
	results: () => ({ passed, failed }), children,
};
Object.defineProperty(module.exports, 'RPC_PORT', { get: () => RPC_PORT });

// ---- running ------------------------------------------------------------

// After each test: pools get SIGTERM and must exit 0 within 5 s with no
// sanitizer report (under ASan the leak check runs at that exit); the
// rest is killed.  Every output is kept in TMP.
async function stopChildren() {
	for (const c of children) {
		const alive = c.code === undefined && c.signal === undefined;
		if (c.name === 'pool' && alive) {
			c.kill('SIGTERM');
			await Promise.race([c.exited, sleep(5000)]);
			check(c.code === 0, `pool exits 0 on SIGTERM (code ${c.code}, signal ${c.signal})`);
		}
		c.kill('SIGKILL');
		check(!/AddressSanitizer|LeakSanitizer|runtime error:|Invalid read|Invalid write|definitely lost: [1-9]/.test(c.out),
			`${c.name} ${c.p.pid}: no sanitizer or valgrind report`);
		fs.writeFileSync(path.join(TMP, `${c.name}-${c.p.pid}.log`), c.out);
	}
	children.length = 0;
}

async function main() {
	const tests = { list: require('./integration_tests.js').list.concat(
		require('./integration_faults.js').list,
		require('./integration_abuse.js').list,
		require('./integration_api.js').list) };
	const t0 = Date.now();
	let addrs;
	try {
		startNode();
		addrs = await require('./integration_tests.js').prepareChain();
	} catch (e) {
		console.error('setup failed: ' + (e.stack || e));
		failed++;
	}
	for (const [name, fn] of tests.list) {
		if (failed > 0 && !addrs) break;
		if (FILTER && !name.includes(FILTER)) continue;
		const before = failed;
		const t = Date.now();
		try {
			await Promise.race([fn(addrs), sleep(120000).then(() => {
				throw new Error('test took over 120 s');
			})]);
		} catch (e) {
			failed++;
			console.error('  FAILED with exception: ' + (e.stack || e));
		}
		await stopChildren();
		console.log(`${failed === before ? 'ok  ' : 'FAIL'} ${name} (${Date.now() - t} ms)`);
	}
	stopNode();
	console.log(`integration took ${((Date.now() - t0) / 1000).toFixed(1)} s`);
	console.log(`integration: ${passed} passed, ${failed} failed`);
	if (failed === 0 && !process.env.KEEP_LOGS) fs.rmSync(TMP, { recursive: true, force: true });
	else console.log('logs kept in ' + TMP);
	process.exit(failed === 0 ? 0 : 1);
}

if (require.main === module) {
	const bail = () => { for (const c of children) c.kill('SIGKILL'); stopNode(); process.exit(1); };
	process.on('SIGINT', bail);
	process.on('SIGTERM', bail);
	setTimeout(() => { console.error('integration: global time limit'); bail(); }, 25 * 60 * 1000).unref();
	main();
}
