/*
 * console.test.js: the Whistle web console end to end, in Debian's
 * headless Chromium driven by playwright-core (no browser download:
 * executablePath is the system's Chromium). Run by
 * tests/scenario/test_browser.sh, which starts a station and its street
 * hub with consoles and passes their URLs and accounts in the
 * environment:
 *
 *   STATION_URL, HUB_URL, STATION_USER, STATION_PASS, HUB_USER,
 *   HUB_PASS, SHOTS (screenshot directory), WH_CHROMIUM
 *
 * Prints "ok: ..." / "FAIL: ..." per check, "case id: ID" once, and
 * "console: N passed, M failed" last; exits 1 if anything failed.
 * Every wait is bounded.
 */
'use strict';
const { chromium } = require('playwright-core');
const path = require('path');

const env = (k) => {
  if (!process.env[k]) { console.log(`FAIL: environment variable ${k} missing`); process.exit(2); }
  return process.env[k];
};
const STATION = env('STATION_URL'), HUB = env('HUB_URL'), SHOTS = env('SHOTS');
let passed = 0, failed = 0;
function check(desc, cond, detail) {
  if (cond) { passed++; console.log(`ok: ${desc}`); }
  else { failed++; console.log(`FAIL: ${desc}${detail ? ': ' + detail : ''}`); }
}
const shot = (page, name) => page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function login(page, base, user, pass) {
  await page.goto(base + '/');
  await page.waitForSelector('#login-form', { timeout: 15000 });
  await page.fill('#user', user);
  await page.fill('#password', pass);
  await page.click('#login-submit');
  await page.waitForSelector('#cases', { timeout: 15000 });
}

/* Reload the home list until a row for id is there (or ms pass). */
async function waitForRow(page, base, id, sel, ms) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    await page.goto(base + '/#/');
    try {
      await page.waitForSelector(`a.case-row[data-id="${id}"]${sel}`, { timeout: 3000 });
      return true;
    } catch (e) { /* not yet */ }
    await sleep(1000);
  }
  return false;
}

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.WH_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    await run(browser);
  } finally {
    await browser.close();
  }
}

async function run(browser) {
  const viewport = { width: 1280, height: 900 };
  const st = await browser.newContext({ viewport, locale: 'zh-CN' });
  const hub = await browser.newContext({ viewport, locale: 'zh-CN' });
  const sp = await st.newPage();
  const hp = await hub.newPage();
  const errors = [];
  for (const p of [sp, hp]) {
    p.on('pageerror', (e) => errors.push(String(e)));
    p.on('console', (m) => { if (m.type() === 'error' && !/401|403|Failed to load resource/.test(m.text())) errors.push(m.text()); });
  }

  /* ---- nothing answers without a session ---- */
  for (const p of ['/api/cases', '/api/status', '/api/sync', '/api/me', '/api/cases/XJK-ZDY-000001']) {
    const r = await fetch(STATION + p);
    check(`GET ${p} without a session: 401`, r.status === 401, `got ${r.status}`);
  }
  {
    const r = await fetch(STATION + '/api/cases', { method: 'POST',
      headers: { 'Content-Type': 'application/json' }, body: '{"title":"x"}' });
    check('POST /api/cases without a session: 401', r.status === 401, `got ${r.status}`);
  }

  /* ---- login: a wrong password, then the right one ---- */
  await sp.goto(STATION + '/');
  await sp.waitForSelector('#login-form', { timeout: 15000 });
  check('the login page is Chinese by default', (await sp.textContent('h1')) === '登录');
  await shot(sp, 'login');
  await sp.fill('#user', env('STATION_USER'));
  await sp.fill('#password', 'not-the-password');
  await sp.click('#login-submit');
  await sp.waitForFunction(() => document.getElementById('login-error').textContent.length > 0, null, { timeout: 15000 });
  check('a wrong password is refused', (await sp.textContent('#login-error')).includes('错误'));
  check('no session cookie after a wrong password',
    !(await st.cookies()).some((c) => c.name === 'wh_session'));
  await sp.fill('#user', env('STATION_USER'));
  await sp.fill('#password', env('STATION_PASS'));
  await sp.click('#login-submit');
  await sp.waitForSelector('#cases', { timeout: 15000 });
  check('logged in: the case list shows', true);
  const cookie = (await st.cookies()).find((c) => c.name === 'wh_session');
  check('session cookie set', !!cookie);
  check('cookie HttpOnly', cookie && cookie.httpOnly === true);
  check('cookie SameSite=Strict', cookie && cookie.sameSite === 'Strict');
  check('cookie Path=/', cookie && cookie.path === '/');
  check('cookie is 256 random bits in hex', cookie && /^[0-9a-f]{64}$/.test(cookie.value));
  check('cookie expires', cookie && cookie.expires > Date.now() / 1000);
  check('scripts cannot read the cookie', !(await sp.evaluate(() => document.cookie)).includes('wh_session'));

  /* ---- CSRF: the session alone does not change anything ---- */
  const noToken = await sp.evaluate(async () => {
    const r = await fetch('/api/cases', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ title: 'no token' }) });
    return r.status;
  });
  check('POST without the CSRF token: 403', noToken === 403, `got ${noToken}`);
  const badToken = await sp.evaluate(async () => {
    const r = await fetch('/api/sync', { method: 'POST', headers: { 'Content-Type': 'application/json',
      'X-CSRF-Token': '0'.repeat(64) }, body: '{}' });
    return r.status;
  });
  check('POST with a wrong CSRF token: 403', badToken === 403, `got ${badToken}`);
  {
    const me = await (await fetch(STATION + '/api/me', { headers: { Cookie: `wh_session=${cookie.value}` } })).json();
    const r = await fetch(STATION + '/api/sync', { method: 'POST', headers: {
      Cookie: `wh_session=${cookie.value}`, 'X-CSRF-Token': me.csrf, 'Content-Type': 'application/json',
      Origin: 'http://evil.example' }, body: '{}' });
    check('POST from another Origin: 403', r.status === 403, `got ${r.status}`);
    const f = await fetch(STATION + '/api/sync', { method: 'POST', headers: {
      Cookie: `wh_session=${cookie.value}`, 'X-CSRF-Token': me.csrf,
      'Content-Type': 'application/x-www-form-urlencoded' }, body: 'a=b' });
    check('a form POST (not JSON): 415', f.status === 415, `got ${f.status}`);
  }

  /* ---- language toggle ---- */
  await sp.click('#lang');
  await sp.waitForSelector('text=New case', { timeout: 5000 });
  check('English on one click', (await sp.textContent('h1')).includes("Today's cases"));
  await sp.click('#lang');
  await sp.waitForSelector('text=新建案件', { timeout: 5000 });
  check('and back to Chinese', (await sp.textContent('h1')).includes('今天'));

  /* ---- a new case through the form ---- */
  await sp.click('#nav-new');
  await sp.waitForSelector('#new-form', { timeout: 10000 });
  const cats = await sp.$$eval('#category option', (o) => o.map((x) => x.value));
  check('categories come from the problem list', cats.includes('楼道堆物'), cats.join(','));
  const title = `楼道堆物堵塞消防通道 ${Date.now() % 100000}`;
  await sp.fill('#title', title);
  await sp.selectOption('#category', '楼道堆物');
  await sp.fill('#grid', 'g07');
  await sp.selectOption('#source', 'patrol');
  await sp.selectOption('#priority', 'urgent');
  await sp.fill('#address', '赵登禹路 12 号院 3 单元');
  await sp.fill('#description', '三层楼道堆放纸箱和旧家具，<b>堵住</b>消防通道。');
  await sp.fill('#reporter', '王女士');
  await sp.fill('#contact', '138-0000-0000');
  await shot(sp, 'new_case');
  await sp.click('#new-submit');
  await sp.waitForSelector('#case-title', { timeout: 15000 });
  const id = (await sp.textContent('#case-title .case-id')).trim();
  console.log(`case id: ${id}`);
  check('the case page opens with a case id', /^[A-Z0-9-]+-\d{6}$/.test(id), id);
  const shown = await sp.textContent('.facts');
  check('the description shows as text, not HTML', shown.includes('<b>堵住</b>'));
  check('no element came from the data', (await sp.$$('.facts b')).length === 0);
  check('the reporter shows on its own station', shown.includes('王女士'));
  const home = await sp.goto(STATION + '/#/');
  void home;
  check("it is listed among today's cases",
    await waitForRow(sp, STATION, id, ':has(.badge.today)', 10000));

  /* ---- the hub's console sees it after sync ---- */
  await login(hp, HUB, env('HUB_USER'), env('HUB_PASS'));
  check('the case reached the hub console', await waitForRow(hp, HUB, id, '', 30000));
  await hp.goto(HUB + '/#/case/' + id);
  await hp.waitForSelector('#steps', { timeout: 10000 });
  const hubFacts = await hp.textContent('.facts');
  check('the hub reads the sealed reporter (it is a reader)', hubFacts.includes('王女士'));
  /* triage as a big matter, then whistle with a one-minute limit */
  await hp.click('button.step[data-step="triage"]');
  await hp.selectOption('#s-level', 'big');
  await hp.fill('#s-reason', '涉及消防和城管');
  await hp.click('#step-submit');
  await hp.waitForSelector('button.step[data-step="whistle"]', { timeout: 10000 });
  check('after triage the hub may whistle', true);
  await hp.click('button.step[data-step="whistle"]');
  const boxes = await hp.$$eval('#step-form input[type=checkbox]', (b) => b.map((x) => x.value));
  check("the whistle form offers the problem list's departments", boxes.length > 0, boxes.join(','));
  await hp.fill('#s-report-within', '1m');
  await hp.fill('#s-text', '请两部门到场');
  await hp.click('#step-submit');
  await hp.waitForSelector('#departments table', { timeout: 10000 });
  const tWhistle = Date.now();
  const depts = await hp.$$eval('#departments tbody tr td:first-child', (t) => t.map((x) => x.textContent));
  check('the departments summoned are listed', depts.length > 0, depts.join(','));
  check('none has reported yet', (await hp.$$('#departments td.ok')).length === 0);
  const hist = await hp.$$eval('#history li .kind', (k) => k.map((x) => x.dataset.kind));
  check('history has the create, the triage and the whistle',
    hist.includes('create') && hist.includes('triage') && hist.includes('whistle'), hist.join(','));

  /* ---- the sync panel while the minute runs ---- */
  await hp.click('a.navlink[href="#/sync"]');
  await hp.waitForSelector('#peers table', { timeout: 15000 });
  const peerText = await hp.textContent('#peers');
  check('the sync panel lists the station', peerText.includes('zdy'));
  await hp.click('#sync-now');
  await hp.waitForFunction(() => document.getElementById('sync-msg').textContent.length > 0, null, { timeout: 10000 });
  check('sync now is accepted', (await hp.textContent('#sync-msg')).includes('已开始同步'));
  await sp.goto(STATION + '/#/sync');
  await sp.waitForSelector('#peers table', { timeout: 15000 });
  await sp.waitForSelector('#peers tr.online', { timeout: 15000 }).catch(() => null);
  check('the station sees its hub online', (await sp.$$('#peers tr.online')).length > 0);
  await shot(sp, 'sync');

  /* ---- the emergency banner renders what status carries ---- */
  const st0 = await sp.evaluate(async () => (await fetch('/api/status')).json());
  check('/api/status carries an emergencies array', Array.isArray(st0.emergencies));
  check('no banner while it is empty', await sp.$eval('#emergency', (e) => e.hidden));
  await sp.evaluate(() => window.WH.renderBanner([
    { id: 'EM-XC-000001', title: '暴雨红色预警', area: 'xicheng/xinjiekou', plan_title: '<img src=x onerror="window.pwned=1">',
      start: '2026-07-31T08:00:00+08:00' },
    '停电',
  ]));
  const banner = await sp.$eval('#emergency', (e) => ({ hidden: e.hidden, text: e.textContent,
    items: e.querySelectorAll('.emergency-item').length, imgs: e.querySelectorAll('img').length }));
  check('the banner shows every emergency', !banner.hidden && banner.items === 2, JSON.stringify(banner));
  check('the banner shows its fields', banner.text.includes('暴雨红色预警') && banner.text.includes('EM-XC-000001') &&
    banner.text.includes('xicheng/xinjiekou') && banner.text.includes('停电'));
  check('the banner shows markup as text', banner.text.includes('<img') && banner.imgs === 0 &&
    !(await sp.evaluate(() => window.pwned)));
  await sp.evaluate(() => window.WH.renderBanner([]));
  check('an empty list hides the banner', await sp.$eval('#emergency', (e) => e.hidden));

  /* ---- overdue once the minute has passed ---- */
  const wait = tWhistle + 62000 - Date.now();
  if (wait > 0) await sleep(wait);
  check('the hub flags it overdue', await waitForRow(hp, HUB, id, '.is-overdue:has(.badge.overdue)', 30000));
  await shot(hp, 'home');
  await hp.goto(HUB + '/#/case/' + id);
  await hp.waitForSelector('#case-overdue', { timeout: 10000 }).catch(() => null);
  const ov = await hp.$('#case-overdue');
  check('the case page says what is late', ov && (await ov.textContent()).includes('报到超时'));
  check('the late department row is marked', (await hp.$$('#departments tr.is-overdue')).length > 0);
  await shot(hp, 'case');
  check('the station sees the overdue too, after sync', await waitForRow(sp, STATION, id, '.is-overdue', 30000));

  /* ---- logout ends the session ---- */
  await sp.click('#logout');
  await sp.waitForSelector('#login-form', { timeout: 10000 });
  const after = await fetch(STATION + '/api/cases', { headers: { Cookie: `wh_session=${cookie.value}` } });
  check('the old cookie is refused after logout', after.status === 401, `got ${after.status}`);
  check('no script errors on the pages', errors.length === 0, errors.join(' | '));
}

main().catch((e) => { failed++; console.log(`FAIL: ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' ') : e}`); })
  .finally(() => {
    console.log(`console: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  });
