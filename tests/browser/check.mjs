// Opens sbdiag HTML reports in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core) and checks what a reader gets: the page makes no network request, logs no
// console error, throws no page error and opens no dialog; the verdict is visible; incidents come
// first (the expected one on top, before any other finding); the status graphs render as SVG in
// incidents or findings and fit the page's width; markup planted in the bundle shows as text and
// never runs; the severity and rule filters hide findings; a copy button works without throwing;
// and with JavaScript disabled every finding is still there (shown, or in a fold whose summary
// is). Saves a full-page screenshot per report
// (plus a first-screen and a dark-mode one beside it).
//
// Usage:
//   node tests/browser/check.mjs REPORT.html SCREENSHOT.png [options] [-- REPORT.html SCREENSHOT.png [options]]...
// Options (per report):
//   --verdict TEXT   the verdict sentence expected in #verdict
//   --text TEXT      text that must appear as text in the page (repeatable; e.g. planted markup)
//   --no-graph       the report has no status graph (do not require one)
//   --incident TITLE the title expected on the first incident
// Environment: CHROMIUM (default /usr/bin/chromium).
// Prints one JSON line per report and exits 1 when any check fails.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];
/** Schemes a self-contained page may touch. */
const LOCAL = /^(file|data|about):/i;

function usage(msg) {
  console.error(`check.mjs: ${msg}`);
  console.error('usage: node check.mjs REPORT.html SCREENSHOT.png [--verdict T] [--incident T] [--text T]... [--no-graph] [-- ...]');
  process.exit(2);
}

function parse(argv) {
  const specs = [];
  let cur = null;
  const groups = [[]];
  for (const a of argv) {
    if (a === '--') groups.push([]);
    else groups[groups.length - 1].push(a);
  }
  for (const g of groups) {
    if (g.length === 0) continue;
    cur = { html: null, png: null, verdict: null, incident: null, texts: [], graph: true };
    for (let i = 0; i < g.length; i++) {
      const a = g[i];
      if (a === '--no-graph') cur.graph = false;
      else if (a === '--verdict' || a === '--text' || a === '--incident') {
        if (i + 1 >= g.length) usage(`${a} needs a value`);
        if (a === '--verdict') cur.verdict = g[++i];
        else if (a === '--incident') cur.incident = g[++i];
        else cur.texts.push(g[++i]);
      } else if (a.startsWith('--')) usage(`unknown option ${a}`);
      else if (!cur.html) cur.html = a;
      else if (!cur.png) cur.png = a;
      else usage(`unexpected argument ${a}`);
    }
    if (!cur.html || !cur.png) usage('each report needs REPORT.html and SCREENSHOT.png');
    if (!fs.existsSync(cur.html)) usage(`${cur.html} does not exist`);
    specs.push(cur);
  }
  if (specs.length === 0) usage('no report given');
  return specs;
}

async function launch(javaScriptEnabled) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'sbdiag-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    javaScriptEnabled,
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    // Anything that still tried the network would go nowhere.
    proxy: { server: 'http://127.0.0.1:9' },
  });
  return { context, profile };
}

async function close({ context, profile }) {
  await context.close();
  fs.rmSync(profile, { recursive: true, force: true });
}

/** Records what a page does that a self-contained offline page must not. */
function watch(context, page, problems) {
  const requests = [];
  const seen = (url) => {
    requests.push(url);
    if (!LOCAL.test(url)) problems.push(`network request: ${url}`);
  };
  context.on('request', (r) => seen(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('dialog', async (d) => {
    problems.push(`dialog opened (planted script ran?): ${d.message()}`);
    await d.dismiss().catch(() => {});
  });
  return requests;
}

// The findings (of a rule, or of the others) a reader can reach: shown, or inside a closed fold
// whose summary is shown. (Inlined in the page: its CSP forbids eval.)
const reachableFindings = (page, sel, rule = null, same = true) =>
  page.$$eval(sel, (els, [rule, same]) => els.filter((e) => {
    if (rule !== null && (e.getAttribute('data-rule') === rule) !== same) return false;
    if (e.closest('[hidden]')) return false;
    if (e.checkVisibility()) return true;
    const fold = e.parentElement && e.parentElement.closest('details:not([open])');
    const summary = fold && fold.querySelector(':scope > summary');
    return !!summary && summary.checkVisibility();
  }).length, [rule, same]);

const visibleFindings = (page, sev) =>
  reachableFindings(page, `details.finding${sev ? `[data-severity="${sev}"]` : ''}`);

async function checkWithScript(context, spec) {
  const problems = [];
  const facts = { report: spec.html };
  const page = await context.newPage();
  const requests = watch(context, page, problems);
  await page.goto(pathToFileURL(path.resolve(spec.html)).href, { waitUntil: 'load' });

  // The verdict.
  const verdict = page.locator('#verdict');
  if (!(await verdict.isVisible())) problems.push('#verdict is not visible');
  facts.verdict = (await verdict.innerText()).trim();
  if (!facts.verdict) problems.push('#verdict is empty');
  if (spec.verdict !== null && facts.verdict !== spec.verdict) {
    problems.push(`verdict ${JSON.stringify(facts.verdict)} != ${JSON.stringify(spec.verdict)}`);
  }

  facts.findings = await page.locator('details.finding').count();

  // Incidents first: the expected one on top, the section before the other findings.
  facts.incidents = await page.locator('section.incident').count();
  if (spec.incident !== null) {
    const first = page.locator('section.incident').first();
    if (facts.incidents === 0) problems.push('no incident');
    else {
      facts.firstIncident = (await first.locator('h3 .title').innerText()).trim();
      if (facts.firstIncident !== spec.incident) {
        problems.push(`first incident ${JSON.stringify(facts.firstIncident)} != ${JSON.stringify(spec.incident)}`);
      }
      if (!(await first.isVisible())) problems.push('first incident not visible');
      const order = await page.evaluate(() => {
        const i = document.getElementById('incidents');
        const f = document.getElementById('findings');
        return !!i && !!f && (i.compareDocumentPosition(f) & Node.DOCUMENT_POSITION_FOLLOWING) !== 0;
      });
      if (!order) problems.push('#incidents is not before #findings');
    }
  }

  // Graphs: drawn in incidents or findings, as wide as the page allows and no wider.
  const GRAPH = 'section.incident svg.graph, details.finding svg.graph';
  facts.graphs = await page.locator(GRAPH).count();
  if (spec.graph) {
    if (facts.graphs === 0) problems.push('no <svg class="graph"> in an incident or a finding');
    else {
      const box = await page.locator(GRAPH).first().boundingBox();
      facts.firstGraph = box && { width: Math.round(box.width), height: Math.round(box.height) };
      if (!box || box.width < 100 || box.height < 40) problems.push(`first graph not rendered: ${JSON.stringify(box)}`);
      const rects = await page.locator(`${GRAPH.split(', ').map((g) => `${g} rect`).join(', ')}`).count();
      if (rects === 0) problems.push('graph without boxes');
      const wide = await page.$$eval(GRAPH, (els) => els
        .filter((e) => e.checkVisibility())
        .filter((e) => {
          const box = e.closest('.graphbox');
          return e.getBoundingClientRect().width > box.clientWidth + 1 || box.scrollWidth > box.clientWidth + 1;
        }).length);
      if (wide !== 0) problems.push(`${wide} graph(s) wider than the page`);
    }
  }

  // Planted markup: shown as text, never run.
  const pwned = await page.evaluate(() => typeof window.__pwned);
  if (pwned !== 'undefined') problems.push(`planted script ran: window.__pwned is ${pwned}`);
  facts.elements = await page.evaluate(() => ({
    scripts: document.scripts.length,
    images: document.images.length,
  }));
  if (facts.elements.scripts !== 1) problems.push(`${facts.elements.scripts} <script> elements (want the page's own only)`);
  if (facts.elements.images !== 0) problems.push(`${facts.elements.images} <img> elements`);
  for (const t of spec.texts) {
    const found = await page.evaluate((t) => document.body.textContent.includes(t), t);
    if (!found) problems.push(`text not shown: ${JSON.stringify(t)}`);
  }

  // The inline script ran (its hash matches the Content-Security-Policy): filters are shown.
  const filters = page.locator('#filters');
  if (facts.findings > 0 && !(await filters.isVisible())) problems.push('filters hidden: the inline script did not run');

  // Severity filter: unticking a severity hides its findings, ticking shows them again.
  const total = await visibleFindings(page);
  const sev = await page.$eval('#filters input[data-sev]', (e) => e.getAttribute('data-sev')).catch(() => null);
  if (sev) {
    const n = await visibleFindings(page, sev);
    await page.locator(`#filters input[data-sev="${sev}"]`).click();
    const hidden = await visibleFindings(page, sev);
    const rest = await visibleFindings(page);
    if (hidden !== 0 || rest !== total - n) problems.push(`unticking ${sev}: ${hidden} still visible, ${rest} of ${total} shown`);
    await page.locator(`#filters input[data-sev="${sev}"]`).click();
    if ((await visibleFindings(page)) !== total) problems.push(`ticking ${sev} again did not restore the findings`);
    facts.severityFilter = { severity: sev, hid: n };
  } else if (facts.findings > 0) problems.push('no severity filter');

  // Rule filter: one rule leaves only its findings.
  const rule = await page.$eval('#rule-filter option:nth-child(2)', (o) => o.value).catch(() => null);
  if (rule) {
    await page.selectOption('#rule-filter', rule);
    const other = await reachableFindings(page, 'details.finding', rule, false);
    const mine = await reachableFindings(page, 'details.finding', rule, true);
    if (other !== 0 || mine === 0) problems.push(`rule filter ${rule}: ${mine} of the rule, ${other} others visible`);
    await page.selectOption('#rule-filter', '');
    facts.ruleFilter = { rule, shown: mine };
  }

  // A copy button: clicking it must not throw (clipboard or selection fallback).
  const copy = page.locator('button.copy').first();
  if ((await copy.count()) > 0) {
    await copy.scrollIntoViewIfNeeded();
    await copy.click();
    await page.waitForTimeout(150);
    facts.copyButton = (await copy.innerText()).trim();
    if (facts.copyButton === 'Copy') problems.push('copy button gave no feedback');
  }

  // Printing opens every folded section.
  await page.evaluate(() => window.dispatchEvent(new Event('beforeprint')));
  const closed = await page.$$eval('details', (els) => els.filter((d) => !d.open).length);
  if (closed !== 0) problems.push(`${closed} <details> still closed for printing`);
  await page.reload({ waitUntil: 'load' });
  await page.evaluate(() => window.scrollTo(0, 0));

  // Screenshots: the whole page, the first screen, and the first screen in dark mode.
  fs.mkdirSync(path.dirname(path.resolve(spec.png)), { recursive: true });
  await page.screenshot({ path: spec.png, fullPage: true });
  const stem = spec.png.replace(/\.png$/i, '');
  await page.screenshot({ path: `${stem}-top.png` });
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.screenshot({ path: `${stem}-dark.png` });
  await page.emulateMedia({ colorScheme: 'light' });

  facts.requests = requests.length;
  await page.close();
  return { problems, facts };
}

async function checkWithoutScript(context, spec, problems) {
  const page = await context.newPage();
  watch(context, page, problems);
  await page.goto(pathToFileURL(path.resolve(spec.html)).href, { waitUntil: 'load' });
  const all = await page.locator('details.finding').count();
  const shown = await visibleFindings(page);
  if (shown !== all) problems.push(`JavaScript off: ${shown} of ${all} findings visible or folded under a visible summary`);
  const incidents = await page.locator('section.incident').count();
  const incidentsShown = await page.$$eval('section.incident', (els) => els.filter((e) => e.checkVisibility()).length);
  if (incidentsShown !== incidents) problems.push(`JavaScript off: ${incidentsShown} of ${incidents} incidents visible`);
  if (!(await page.locator('#verdict').isVisible())) problems.push('JavaScript off: verdict not visible');
  if (await page.locator('#filters').isVisible()) problems.push('JavaScript off: dead filter bar shown');
  if ((await page.locator('button.copy:visible').count()) > 0) problems.push('JavaScript off: dead copy buttons shown');
  for (const id of ['coverage', 'timeline']) {
    if (!(await page.locator(`#${id}`).isVisible())) problems.push(`JavaScript off: #${id} not visible`);
  }
  await page.close();
}

async function main() {
  const specs = parse(process.argv.slice(2));
  if (!fs.existsSync(CHROMIUM)) usage(`${CHROMIUM} not found`);
  const results = [];
  const on = await launch(true);
  try {
    for (const spec of specs) results.push(await checkWithScript(on.context, spec));
  } finally {
    await close(on);
  }
  const off = await launch(false);
  try {
    for (const [i, spec] of specs.entries()) await checkWithoutScript(off.context, spec, results[i].problems);
  } finally {
    await close(off);
  }
  let ok = true;
  for (const r of results) {
    ok = ok && r.problems.length === 0;
    console.log(JSON.stringify({ ok: r.problems.length === 0, problems: r.problems, facts: r.facts }));
  }
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(`check.mjs: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
