'use strict';
// integration_api.js - the status API, /metrics and the dashboard of a live
// pool after real shares and blocks; statistics across a restart; a
// corrupt statistics file; the dashboard rendered by headless Chromium.

const fs = require('fs');
const path = require('path');
const http = require('http');
const { spawnSync } = require('child_process');
const T = require('./integration.js');
const { check, sleep, startPool, Client, Proc } = T;

const list = [];
const test = (name, fn) => list.push([name, fn]);

function get(port, p, method = 'GET') {
	return new Promise((resolve) => {
		const req = http.request({ host: '127.0.0.1', port, path: p, method, timeout: 5000 }, (res) => {
			let body = '';
			res.setEncoding('utf8');
			res.on('data', (d) => { body += d; });
			res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
		});
		req.on('error', (e) => resolve({ status: 0, body: String(e) }));
		req.on('timeout', () => req.destroy(new Error('timeout')));
		req.end();
	});
}

const json = (r) => { try { return JSON.parse(r.body); } catch (e) { return null; } };

async function apiPool(dataDir) {
	const apiPort = await T.freePort();
	const pool = await startPool({ api: { port: apiPort }, stratum: { data_dir: dataDir } });
	pool.api = apiPort;
	return pool;
}

async function mine(pool, user, seconds) {
	const m = new Proc(T.MINER_BIN, ['-o', '127.0.0.1:' + pool.port, '-u', user, '-n', '5',
		'-t', String(seconds)], 'miner');
	await m.exited;
	return m;
}

test('status API: pool, user, blocks and /metrics after real shares', async (a) => {
	const dataDir = path.join(T.TMP, 'data-api');
	const pool = await apiPool(dataDir);
	const user = a.other + '.rig7';
	await mine(pool, user, 20);
	await sleep(1000);
	const pr = await get(pool.api, '/api/pool');
	const pj = json(pr);
	check(pr.status === 200 && /json/.test(pr.headers['content-type'] || ''), '/api/pool is JSON');
	check(pj && pj.chain === 'regtest' && pj.accepted >= 5, '/api/pool counts the shares: ' + (pj && pj.accepted));
	check(pj && pj.blocks_found >= 1, '/api/pool counts the blocks found');
	check(pj && pj.users.some((u) => u.address === a.other && u.hashrate['1m'] > 0),
		'/api/pool lists the miner\'s address with a hashrate');
	const ur = json(await get(pool.api, '/api/users/' + a.other));
	check(ur && ur.workers.length === 1 && ur.workers[0].name === user && ur.accepted >= 5 &&
		ur.workers[0].agent === 'testminer/1.0', '/api/users/<address> lists the worker');
	const unknown = await get(pool.api, '/api/users/nobody');
	check(unknown.status === 404, 'unknown address: 404');
	const br = json(await get(pool.api, '/api/blocks'));
	const best = await T.rpc('getbestblockhash', []);
	check(br && br.blocks.some((b) => b.verdict === 'accepted' && b.finder === user),
		'/api/blocks has the accepted block and its finder');
	check(br && br.blocks.some((b) => b.hash === best), '/api/blocks has the node\'s tip');
	const mr = await get(pool.api, '/metrics');
	const bad = mr.body.split('\n').filter((l) => l && !l.startsWith('#') &&
		!/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+(Inf|NaN)?$/.test(l));
	check(mr.status === 200 && bad.length === 0, '/metrics lines in exposition format: ' + bad.slice(0, 3));
	check(/stratum_shares_accepted_total \d+/.test(mr.body), '/metrics has the share counter');
	check((await get(pool.api, '/nope')).status === 404, 'unknown path: 404');
	check((await get(pool.api, '/api/pool', 'POST')).status === 405, 'POST: 405');
	pool.best = pj.best_share_ever;
});

test('statistics survive a restart; a corrupt file is moved aside', async (a) => {
	const dataDir = path.join(T.TMP, 'data-api');
	let pool = await apiPool(dataDir);
	const before = json(await get(pool.api, '/api/users/' + a.other));
	check(before && before.accepted >= 5, 'the previous run\'s shares are there after a restart');
	await mine(pool, a.other + '.rig7', 5);
	const mid = json(await get(pool.api, '/api/users/' + a.other));
	pool.kill('SIGTERM');
	await pool.exited;
	pool = await apiPool(dataDir);
	const after = json(await get(pool.api, '/api/users/' + a.other));
	check(after && mid && after.best_share_ever === mid.best_share_ever && after.accepted === mid.accepted,
		`same best share and counts after the restart (${mid && mid.best_share_ever})`);
	const blocks = json(await get(pool.api, '/api/blocks'));
	check(blocks && blocks.count >= 1, 'found blocks are kept');
	pool.kill('SIGTERM');
	await pool.exited;
	fs.writeFileSync(path.join(dataDir, 'stats.json'), '{"version":1,"workers":[{"name":');
	pool = await apiPool(dataDir);
	check(/corrupt/.test(pool.out), 'a warning names the corrupt file');
	check(fs.readdirSync(dataDir).some((f) => f.startsWith('stats.json.corrupt')), 'moved aside, not deleted');
	const c = await new Client(pool.port).handshake(a.addr);
	check(c.auth.result === true, 'the pool starts and serves anyway');
	const kept = json(await get(pool.api, '/api/blocks'));
	check(kept && kept.count >= 1, 'found blocks survive a corrupt stats file');
	c.close();
});

test('the dashboard in headless Chromium shows the miner and its hashrate', async (a) => {
	const dataDir = path.join(T.TMP, 'data-dash');
	const pool = await apiPool(dataDir);
	const m = new Proc(T.MINER_BIN, ['-o', '127.0.0.1:' + pool.port, '-u', a.other + '.dash', '-n', '100000',
		'-t', '15'], 'miner');
	await sleep(4000);
	const page = await get(pool.api, '/');
	check(page.status === 200 && /<html/i.test(page.body) && !/(src|href)=["']?https?:/i.test(page.body),
		'GET / is one self-contained page');
	const profile = fs.mkdtempSync(path.join(T.TMP, 'chromium-'));
	const r = spawnSync('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
		'--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
		'--user-data-dir=' + profile, '--virtual-time-budget=5000', '--dump-dom',
		`http://127.0.0.1:${pool.api}/`], { encoding: 'utf8', timeout: 60000 });
	check(r.status === 0, 'chromium ran: ' + (r.error || r.stderr.slice(-200)));
	const dom = r.stdout || '';
	check(dom.includes(a.other), 'the rendered page shows the miner\'s address');
	check(/[1-9][0-9.]*\s*[kMGTP]?H\/s/.test(dom), 'the rendered page shows a non-zero hashrate');
	m.kill();
});

module.exports = { list };

test('block hooks and signals: show_message, on_block, SIGHUP reload, SIGTERM reconnect', async (a) => {
	const hook = path.join(T.TMP, 'on_block.sh');
	const out = path.join(T.TMP, 'on_block.out');
	fs.writeFileSync(hook, `#!/bin/sh\necho "$@" >> ${out}\n`, { mode: 0o755 });
	const pool = await startPool({ stratum: { on_block: hook } });
	const c = await new Client(pool.port).handshake(a.other);
	const EN2 = '0000000000000000';
	const n = T.findNonce(c.job, c.en1, EN2, parseInt(c.job.params[7], 16), true);
	await c.call('mining.submit', ['w', c.job.params[0], EN2, c.job.params[7], T.hex8(n)]);
	const msg = await c.next((m) => m.method === 'client.show_message', 5000);
	check(msg && /accepted/.test(msg.params[0]), 'miners are told about the block: ' + (msg && msg.params[0]));
	await sleep(500);
	const hookOut = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
	const height = await T.rpc('getblockcount', []);
	const hash = await T.rpc('getbestblockhash', []);
	check(hookOut.trim() === `${height} ${hash} w accepted` || hookOut.includes(`${height} ${hash} `),
		'on_block ran with height, hash, finder, verdict: ' + hookOut.trim());
	// SIGHUP: a new start difficulty applies to new miners; a broken file
	// is refused and the running settings stay.
	const conf = fs.readFileSync(pool.conf, 'utf8');
	fs.writeFileSync(pool.conf, conf.replace('start_difficulty = 0.001', 'start_difficulty = 0.004'));
	let from = pool.out.length;
	process.kill(pool.p.pid, 'SIGHUP');
	check(await pool.waitFor(/reloaded/, 3000, from) !== null, 'SIGHUP reloads setting.ini');
	const d = await new Client(pool.port).handshake(a.addr);
	const sd = d.lines.find((m) => m.method === 'mining.set_difficulty');
	check(sd && sd.params[0] === 0.004, 'the new start_difficulty applies: ' + (sd && sd.params[0]));
	fs.writeFileSync(pool.conf, conf + '\n[nonsense]\nx = 1\n');
	from = pool.out.length;
	process.kill(pool.p.pid, 'SIGHUP');
	check(await pool.waitFor(/reload refused.*nonsense/, 3000, from) !== null, 'a broken file is refused with its reason');
	check(pool.code === undefined, 'and the pool keeps running');
	from = c.lines.length;
	pool.kill('SIGTERM');
	const bye = await c.next((m) => m.method === 'client.reconnect', 5000, from);
	check(bye !== null, 'SIGTERM: miners are sent client.reconnect');
	await pool.exited;
	check(pool.code === 0, 'and the pool exits 0');
	c.close();
	d.close();
});
