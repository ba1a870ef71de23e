/*
 * app.js: the web console's pages, in plain JavaScript (no framework,
 * no build step, nothing from outside this agent).
 *
 * One page, five screens chosen by the URL's #fragment: #/login, #/
 * (cases), #/new, #/case/ID, #/sync. Everything comes from the JSON
 * API (docs/api.md). Data from the server is only ever put on the page
 * with textContent or as attribute values through el(); never as HTML.
 * State-changing requests carry the session's CSRF token in
 * X-CSRF-Token.
 */
'use strict';
(function () {
  var state = { me: null, csrf: null, status: null, options: null,
                lang: 'zh', timer: null };
  try { state.lang = localStorage.getItem('wh_lang') || 'zh'; } catch (e) {}
  if (!window.WH_I18N[state.lang]) state.lang = 'zh';

  function t(key) {
    var v = window.WH_I18N[state.lang][key];
    return v === undefined ? key : v;
  }

  /* el('div', {class: 'x', onclick: f}, 'text', child, ...): children
   * that are strings become text nodes. */
  function el(tag, attrs) {
    var n = document.createElement(tag);
    var a = attrs || {};
    Object.keys(a).forEach(function (k) {
      var v = a[k];
      if (v === null || v === undefined || v === false) return;
      if (k.slice(0, 2) === 'on') n.addEventListener(k.slice(2), v);
      else if (k === 'text') n.textContent = String(v);
      else n.setAttribute(k, v === true ? '' : String(v));
    });
    for (var i = 2; i < arguments.length; i++) add(n, arguments[i]);
    return n;
  }
  function add(n, c) {
    if (c === null || c === undefined || c === false) return;
    if (Array.isArray(c)) { c.forEach(function (x) { add(n, x); }); return; }
    n.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
  }
  function clear(n) { while (n.firstChild) n.removeChild(n.firstChild); }

  function api(method, path, body) {
    var o = { method: method, credentials: 'same-origin', headers: {} };
    if (method !== 'GET') {
      o.headers['Content-Type'] = 'application/json';
      if (state.csrf) o.headers['X-CSRF-Token'] = state.csrf;
      o.body = JSON.stringify(body || {});
    }
    return fetch(path, o).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (d) {
        if (res.status === 401 && path !== '/api/login') {
          state.me = null;
          state.csrf = null;
          if (location.hash !== '#/login') location.hash = '#/login';
        }
        return { status: res.status, ok: res.ok, data: d };
      });
    });
  }

  /* Times: the server sends ISO 8601 UTC; people read Beijing time. */
  function when(iso) {
    if (!iso) return t('never');
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var b = new Date(d.getTime() + 8 * 3600000);
    function p(x) { return (x < 10 ? '0' : '') + x; }
    return b.getUTCFullYear() + '-' + p(b.getUTCMonth() + 1) + '-' +
      p(b.getUTCDate()) + ' ' + p(b.getUTCHours()) + ':' + p(b.getUTCMinutes());
  }
  function duration(ms) {
    var m = Math.floor(ms / 60000), d = Math.floor(m / 1440);
    if (m < 1) return t('less_minute');
    var h = Math.floor((m % 1440) / 60), mm = m % 60;
    if (state.lang === 'zh') {
      if (d) return d + '天' + (h ? h + '小时' : '');
      if (h) return h + '小时' + (mm ? mm + '分' : '');
      return mm + '分';
    }
    if (d) return d + 'd' + (h ? h + 'h' : '');
    if (h) return h + 'h' + (mm ? mm + 'm' : '');
    return mm + 'm';
  }
  /* An enum value as this language shows it: the server's Chinese
   * label in Chinese, the English name otherwise. */
  function label(name, zhLabel) {
    return state.lang === 'zh' && zhLabel ? zhLabel : String(name || '').replace(/_/g, ' ');
  }
  function message(r) {
    return (r.data && r.data.message) ? r.data.message : t('error') + ' (' + r.status + ')';
  }

  var main = function () { return document.getElementById('main'); };

  /* ---- the emergency banner ------------------------------------------- */

  /* One banner per emergency in force that /api/status lists (the
   * objects of `whistle emergency status --json`): its title, id, area
   * and plan, and since when. */
  function renderBanner(list) {
    var box = document.getElementById('emergency');
    clear(box);
    if (!Array.isArray(list) || list.length === 0) { box.hidden = true; return; }
    box.hidden = false;
    list.forEach(function (e) {
      var parts = [];
      if (e === null || typeof e !== 'object') {
        parts.push(String(e));
      } else {
        ['title', 'id', 'area', 'plan_title'].forEach(function (k) {
          if (e[k] !== undefined && e[k] !== null && e[k] !== '' && typeof e[k] !== 'object') parts.push(String(e[k]));
        });
        if (e.start) parts.push(when(e.start));
        if (!parts.length) parts.push(JSON.stringify(e));
      }
      box.appendChild(el('div', { class: 'emergency-item', role: 'alert' },
        el('strong', { text: t('emergency') + ': ' }), parts.join(' · ')));
    });
  }

  function refreshStatus() {
    return api('GET', '/api/status').then(function (r) {
      if (!r.ok) return;
      state.status = r.data;
      document.getElementById('station').textContent =
        (r.data.name || '') + ' · ' + (r.data.path || '');
      renderBanner(r.data.emergencies);
    });
  }

  /* ---- the frame ------------------------------------------------------- */

  function frame() {
    var nav = document.getElementById('nav');
    clear(nav);
    document.title = t('app');
    document.getElementById('apptitle').textContent = t('app');
    document.documentElement.lang = state.lang === 'zh' ? 'zh-CN' : 'en';
    if (state.me) {
      nav.appendChild(el('a', { href: '#/', class: 'navlink', text: t('nav_home') }));
      if (state.me.may && state.me.may.create)
        nav.appendChild(el('a', { href: '#/new', class: 'navlink', id: 'nav-new', text: t('nav_new') }));
      nav.appendChild(el('a', { href: '#/sync', class: 'navlink', text: t('nav_sync') }));
      nav.appendChild(el('span', { class: 'who', text: state.me.user }));
      nav.appendChild(el('button', { class: 'plain', id: 'logout', text: t('logout'), onclick: logout }));
    }
    nav.appendChild(el('button', { class: 'plain', id: 'lang', text: t('lang_other'),
      onclick: function () {
        state.lang = state.lang === 'zh' ? 'en' : 'zh';
        try { localStorage.setItem('wh_lang', state.lang); } catch (e) {}
        route();
      } }));
  }

  function logout() {
    api('POST', '/api/logout', {}).then(function () {
      state.me = null; state.csrf = null;
      location.hash = '#/login';
    });
  }

  /* ---- login ------------------------------------------------------------ */

  function pageLogin(m) {
    var err = el('p', { class: 'error', id: 'login-error', role: 'alert' });
    var user = el('input', { id: 'user', name: 'user', autocomplete: 'username', required: true });
    var pw = el('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    var form = el('form', { class: 'card narrow', id: 'login-form', onsubmit: function (ev) {
      ev.preventDefault();
      err.textContent = '';
      api('POST', '/api/login', { user: user.value, password: pw.value }).then(function (r) {
        if (!r.ok) {
          err.textContent = r.status === 429 ? t('login_limited') : t('login_failed');
          pw.value = '';
          return;
        }
        state.csrf = r.data.csrf;
        return loadMe().then(function () { location.hash = '#/'; });
      });
    } },
      el('h1', { text: t('login_title') }),
      el('label', { for: 'user', text: t('user') }), user,
      el('label', { for: 'password', text: t('password') }), pw,
      el('button', { type: 'submit', class: 'primary', id: 'login-submit', text: t('login') }),
      err);
    m.appendChild(form);
    user.focus();
  }

  /* ---- the case list ------------------------------------------------------ */

  var filters = { status: '', q: '', overdue: false };

  function overdueText(o) {
    return (o.what === 'resolve' ? t('late_resolve') : t('late_report')) + ' ' +
      o.department + ' · ' + t('late_by') + ' ' + duration(o.late_ms);
  }

  function pageHome(m) {
    var list = el('div', { id: 'cases' }, el('p', { text: t('loading') }));
    var counts = el('p', { class: 'counts', id: 'counts' });
    var status = el('select', { id: 'filter-status', onchange: function () { filters.status = status.value; load(); } },
      el('option', { value: '', text: t('filter_all') }));
    (state.options ? state.options.statuses : []).forEach(function (s) {
      status.appendChild(el('option', { value: s.name, text: label(s.name, s.label) }));
    });
    status.value = filters.status;
    var q = el('input', { id: 'filter-q', type: 'search', value: filters.q, placeholder: t('filter_search'),
      onchange: function () { filters.q = q.value; load(); } });
    var od = el('input', { id: 'filter-overdue', type: 'checkbox', onchange: function () { filters.overdue = od.checked; load(); } });
    od.checked = filters.overdue;
    m.appendChild(el('h1', { text: t('home_title') }));
    m.appendChild(el('div', { class: 'filters' },
      el('label', {}, t('filter_status') + ' ', status),
      el('label', {}, t('filter_search') + ' ', q),
      el('label', { class: 'check' }, od, ' ' + t('filter_overdue'))));
    m.appendChild(counts);
    m.appendChild(list);
    function load() {
      var qs = [];
      if (filters.status) qs.push('status=' + encodeURIComponent(filters.status));
      if (filters.q) qs.push('q=' + encodeURIComponent(filters.q));
      if (filters.overdue) qs.push('overdue=1');
      api('GET', '/api/cases' + (qs.length ? '?' + qs.join('&') : '')).then(function (r) {
        clear(list);
        if (!r.ok) { list.appendChild(el('p', { class: 'error', text: message(r) })); return; }
        counts.textContent = t('n_overdue') + ' ' + r.data.overdue + ' · ' + t('n_today') + ' ' +
          r.data.today + ' · ' + t('n_total') + ' ' + r.data.total;
        if (!r.data.cases.length) list.appendChild(el('p', { class: 'empty', text: t('no_cases') }));
        r.data.cases.forEach(function (c) { list.appendChild(caseRow(c)); });
        if (r.data.more) list.appendChild(el('p', { text: t('more_cases') }));
      });
    }
    load();
    state.timer = setInterval(load, 5000);
  }

  function caseRow(c) {
    var late = c.overdue && c.overdue.length;
    var badges = el('div', { class: 'badges' },
      late ? el('span', { class: 'badge overdue', text: t('badge_overdue') }) : null,
      c.today ? el('span', { class: 'badge today', text: t('badge_today') }) : null,
      c.conflict ? el('span', { class: 'badge conflict', text: t('badge_conflict') }) : null,
      c.carried ? el('span', { class: 'badge carried', text: t('badge_carried') }) : null,
      el('span', { class: 'badge status', text: label(c.status, c.status_label) }),
      el('span', { class: 'badge prio-' + c.priority, text: label(c.priority, c.priority_label) }));
    return el('a', { class: 'case-row' + (late ? ' is-overdue' : ''), href: '#/case/' + encodeURIComponent(c.id),
                     'data-id': c.id },
      el('div', { class: 'case-head' }, el('span', { class: 'case-id', text: c.id }), badges),
      el('div', { class: 'case-title', text: c.title || '—' }),
      el('div', { class: 'case-meta', text: [c.category, c.address].filter(Boolean).join(' · ') }),
      late ? el('div', { class: 'late' }, c.overdue.map(function (o) {
        return el('div', { class: 'late-item', text: overdueText(o) });
      })) : null);
  }

  /* ---- new case ------------------------------------------------------------- */

  function field(id, key, input, hint) {
    return el('div', { class: 'field' }, el('label', { for: id, text: t(key) }), input,
      hint ? el('p', { class: 'hint', text: hint }) : null);
  }
  function select(id, items, withEmpty) {
    var s = el('select', { id: id, name: id });
    if (withEmpty) s.appendChild(el('option', { value: '', text: t('f_category_none') }));
    items.forEach(function (it) { s.appendChild(el('option', { value: it.value, text: it.text })); });
    return s;
  }

  function pageNew(m) {
    var o = state.options || { categories: [], sources: [], priorities: [] };
    var title = el('input', { id: 'title', name: 'title', required: true, maxlength: 200 });
    var cat = select('category', o.categories.map(function (c) { return { value: c.category, text: c.category }; }), true);
    var grid = el('input', { id: 'grid', name: 'grid', placeholder: 'g07' });
    var source = select('source', o.sources.map(function (s) { return { value: s.name, text: label(s.name, s.label) }; }));
    source.value = 'walkin';
    var prio = select('priority', o.priorities.map(function (s) { return { value: s.name, text: label(s.name, s.label) }; }));
    prio.value = 'normal';
    var addr = el('input', { id: 'address', name: 'address' });
    var desc = el('textarea', { id: 'description', name: 'description', rows: 4 });
    var rep = el('input', { id: 'reporter', name: 'reporter' });
    var con = el('input', { id: 'contact', name: 'contact' });
    var err = el('p', { class: 'error', id: 'new-error', role: 'alert' });
    var submit = el('button', { type: 'submit', class: 'primary', id: 'new-submit', text: t('save') });
    var form = el('form', { class: 'card', id: 'new-form', onsubmit: function (ev) {
      ev.preventDefault();
      err.textContent = '';
      submit.disabled = true;
      submit.textContent = t('saving');
      var body = { title: title.value, category: cat.value, grid: grid.value, source: source.value,
                   priority: prio.value, address: addr.value, description: desc.value,
                   reporter: rep.value, contact: con.value };
      api('POST', '/api/cases', body).then(function (r) {
        submit.disabled = false;
        submit.textContent = t('save');
        if (!r.ok) { err.textContent = message(r); return; }
        location.hash = '#/case/' + encodeURIComponent(r.data.id);
      });
    } },
      el('h1', { text: t('new_title') }),
      field('title', 'f_title', title),
      field('category', 'f_category', cat),
      el('div', { class: 'row3' }, field('grid', 'f_grid', grid), field('source', 'f_source', source),
        field('priority', 'f_priority', prio)),
      field('address', 'f_address', addr),
      field('description', 'f_description', desc),
      el('div', { class: 'row2' }, field('reporter', 'f_reporter', rep), field('contact', 'f_contact', con)),
      el('p', { class: 'hint', text: t('f_sealed') }),
      el('div', { class: 'buttons' }, submit,
        el('a', { href: '#/', class: 'button', text: t('cancel') })),
      err);
    m.appendChild(form);
    title.focus();
  }

  /* ---- one case --------------------------------------------------------------- */

  function kv(key, value, cls) {
    return el('div', { class: 'kv' + (cls ? ' ' + cls : '') }, el('span', { class: 'k', text: t(key) }),
      el('span', { class: 'v', text: value === null || value === undefined || value === '' ? '—' : value }));
  }

  function pageCase(m, id) {
    m.appendChild(el('p', { text: t('loading') }));
    api('GET', '/api/cases/' + encodeURIComponent(id)).then(function (r) {
      clear(m);
      if (!r.ok) { m.appendChild(el('p', { class: 'error', text: message(r) })); return; }
      renderCase(m, r.data);
    });
  }

  function renderCase(m, d) {
    var c = d.case, loop = c.loop || {};
    var pd = c.personal || {};
    var personal = pd.state === 'sealed' ? t('pd_sealed') : pd.state === 'erased' ? t('pd_erased') :
      [pd.reporter, pd.contact].filter(Boolean).join(' · ') || t('pd_none');
    m.appendChild(el('p', {}, el('a', { href: '#/', text: '← ' + t('back') })));
    m.appendChild(el('h1', { id: 'case-title' }, el('span', { class: 'case-id', text: c.id }), ' ', c.title || ''));
    var late = loop.overdue || [];
    if (late.length)
      m.appendChild(el('div', { class: 'overdue-box', id: 'case-overdue', role: 'alert' },
        el('strong', { text: t('c_overdue') + ': ' }),
        late.map(function (o) { return el('div', { text: overdueText(o) }); })));
    m.appendChild(el('div', { class: 'card facts' },
      kv('c_status', label(c.status, c.status_label), 'status'),
      kv('c_priority', label(c.priority, c.priority_label)),
      kv('c_category', c.category),
      kv('c_level', loop.level ? label(loop.level, loop.level_label) : null),
      kv('c_address', c.address),
      kv('c_path', c.path),
      kv('c_source', label(c.source, c.source_label)),
      kv('c_created', c.created_at ? when(c.created_at) : null),
      kv('c_personal', personal),
      kv('c_description', c.description)));
    /* departments and whether each has reported */
    var depts = el('div', { class: 'card', id: 'departments' }, el('h2', { text: t('depts_title') }));
    if (!d.departments.length) depts.appendChild(el('p', { text: t('d_none') }));
    else {
      var tb = el('tbody');
      d.departments.forEach(function (x) {
        tb.appendChild(el('tr', { class: x.overdue ? 'is-overdue' : '' },
          el('td', { text: x.department }),
          el('td', { text: x.lead ? t('yes') : '' }),
          el('td', { class: x.reported ? 'ok' : 'no', text: x.reported ? t('reported') + ' ' + when(x.reported_at) : t('not_reported') }),
          el('td', { text: x.report_due ? when(x.report_due) : '—' }),
          el('td', { text: x.resolved ? when(x.resolved_at) : '—' })));
      });
      depts.appendChild(el('table', {}, el('thead', {}, el('tr', {},
        el('th', { text: t('d_dept') }), el('th', { text: t('d_lead') }), el('th', { text: t('d_reported') }),
        el('th', { text: t('d_report_due') }), el('th', { text: t('d_resolved') }))), tb));
    }
    m.appendChild(depts);
    /* next steps */
    var steps = el('div', { class: 'card', id: 'steps' }, el('h2', { text: t('steps_title') }));
    var panel = el('div', { id: 'step-panel' });
    var buttons = el('div', { class: 'buttons' });
    var allSteps = (d.steps || []).slice();
    if (d.statuses && d.statuses.length) allSteps.push({ step: 'status' });
    if (!allSteps.length) steps.appendChild(el('p', { text: t('steps_none') }));
    allSteps.forEach(function (s) {
      var name = s.step === 'rate' && s.dept ? t('s_rate_dept') + ' ' + s.dept :
        s.step === 'reopen' ? t(s.by === 'street' ? 'by_street' : 'by_resident') : t('s_' + s.step);
      buttons.appendChild(el('button', { class: 'step', 'data-step': s.step, text: name,
        onclick: function () { clear(panel); panel.appendChild(stepForm(c, s, d)); } }));
    });
    steps.appendChild(buttons);
    steps.appendChild(panel);
    m.appendChild(steps);
    /* history */
    var hist = el('ol', { class: 'history', id: 'history' });
    (c.history || []).slice().reverse().forEach(function (h) {
      hist.appendChild(el('li', { class: 'effect-' + h.effect },
        el('span', { class: 'when', text: when(h.at) }), ' ',
        el('span', { class: 'kind', 'data-kind': h.kind, text: kindText(h.kind) }), ' ',
        el('span', { class: 'fields', text: fieldsText(h.fields) }),
        h.effect !== 'applied' ? el('span', { class: 'badge', text: t('h_' + h.effect) }) : null));
    });
    m.appendChild(el('div', { class: 'card' }, el('h2', { text: t('history_title') }), hist));
  }

  /* What an op changed, in words: the fields people care about, named
   * in this language; keys, hashes and fold positions left out. */
  var HIDDEN = { seen: 1, kid: 1, sealed: 1, blob: 1, size: 1, set: 1, removes: 1, hash: 1 };
  function fieldsText(f) {
    return Object.keys(f || {}).filter(function (k) { return !HIDDEN[k]; })
      .map(function (k) {
        var v = f[k];
        if (Array.isArray(v)) v = v.join(', ');
        else if (v && typeof v === 'object') v = JSON.stringify(v);
        else if (/_ms$/.test(k) && typeof v === 'number') v = duration(v);
        else if (ENUMS[k]) v = enumLabel(ENUMS[k], v);
        var name = t('fl_' + k);
        return (name === 'fl_' + k ? k : name) + ': ' + v;
      }).join(' · ');
  }
  var ENUMS = { level: 'levels', whistle_kind: 'kinds', whistler: 'whistlers', step: 'report_steps',
                source: 'sources', priority: 'priorities', to: 'statuses', from: 'statuses' };
  function enumLabel(list, v) {
    var o = (state.options && state.options[list]) || [];
    for (var i = 0; i < o.length; i++) if (o[i].name === v) return label(o[i].name, o[i].label);
    return v;
  }
  function kindText(k) {
    var v = t('k_' + k);
    return v === 'k_' + k ? k : v;
  }

  function stepForm(c, s, d) {
    var o = state.options || {};
    var body = { step: s.step === 'reopen' ? 'reopen' : s.step };
    var parts = [];
    var err = el('p', { class: 'error', id: 'step-error', role: 'alert' });
    function input(id, key, attrs) {
      var i = el('input', Object.assign({ id: id, name: id }, attrs || {}));
      parts.push(field(id, key, i));
      return i;
    }
    function pick(id, key, items) {
      var sel = select(id, items);
      parts.push(field(id, key, sel));
      return sel;
    }
    function enumItems(list) {
      return (list || []).map(function (x) { return { value: x.name, text: label(x.name, x.label) }; });
    }
    var get = {};
    if (s.step === 'note') get.text = input('s-text', 'f_text');
    if (s.step === 'status') get.status = pick('s-status', 'f_new_status',
      d.statuses.map(function (x) { return { value: x.status, text: label(x.status, x.label) }; }));
    if (s.step === 'triage') {
      get.level = pick('s-level', 'f_level', enumItems(o.levels));
      get.reason = input('s-reason', 'f_reason');
    }
    if (s.step === 'whistle' || s.step === 'supervise') {
      var def = s.defaults || {};
      var boxes = [];
      var names = (def.departments || []).slice();
      if (def.lead && names.indexOf(def.lead) < 0) names.push(def.lead);
      if (names.length) {
        var fs = el('fieldset', {}, el('legend', { text: t('f_depts') }));
        names.forEach(function (n) {
          var b = el('input', { type: 'checkbox', value: n, checked: true });
          boxes.push(b);
          fs.appendChild(el('label', { class: 'check' }, b, ' ' + n));
        });
        parts.push(fs);
      }
      var more = input('s-depts', 'f_more_depts');
      if (s.step === 'whistle') {
        var lead = input('s-lead', 'f_lead');
        lead.value = def.lead || '';
        get.lead = lead;
      }
      var rw = input('s-report-within', 'f_report_within');
      rw.value = def.report_within || '';
      var sw = input('s-resolve-within', 'f_resolve_within');
      sw.value = def.resolve_within || '';
      get.report_within = rw;
      get.resolve_within = sw;
      get.text = input('s-text', 'f_text');
      get.dept = { get value() {
        var list = boxes.filter(function (b) { return b.checked; }).map(function (b) { return b.value; });
        more.value.split(/[,，、]/).forEach(function (x) { x = x.trim(); if (x) list.push(x); });
        return list;
      } };
    }
    if (s.step === 'report') {
      get.report_step = pick('s-report-step', 'f_report_step', enumItems(o.report_steps));
      get.text = input('s-text', 'f_text');
    }
    if (s.step === 'feedback') {
      get.text = input('s-text', 'f_text');
      get.channel = pick('s-channel', 'f_channel', enumItems(o.channels));
    }
    if (s.step === 'rate') {
      get.score = pick('s-score', 'f_score', [5, 4, 3, 2, 1].map(function (x) { return { value: String(x), text: String(x) }; }));
      get.comment = input('s-comment', 'f_comment');
      if (s.dept) body.dept = s.dept;
    }
    if (s.step === 'reopen') {
      body.by = s.by;
      get.reason = input('s-reason', 'f_reason');
    }
    var submit = el('button', { type: 'submit', class: 'primary', id: 'step-submit', text: t('save') });
    return el('form', { class: 'step-form', id: 'step-form', onsubmit: function (ev) {
      ev.preventDefault();
      err.textContent = '';
      Object.keys(get).forEach(function (k) {
        var v = get[k].value;
        if (Array.isArray(v) ? v.length : v !== '') body[k] = v;
      });
      submit.disabled = true;
      api('POST', '/api/cases/' + encodeURIComponent(c.id) + '/steps', body).then(function (r) {
        submit.disabled = false;
        if (!r.ok) { err.textContent = message(r); return; }
        route();
      });
    } }, el('h3', { text: s.step === 'rate' && s.dept ? t('s_rate_dept') : t('s_' + s.step) }), parts,
      el('div', { class: 'buttons' }, submit), err);
  }

  /* ---- sync ----------------------------------------------------------------------- */

  function pageSync(m) {
    var msg = el('p', { id: 'sync-msg', role: 'status' });
    var body = el('div', { id: 'peers' }, el('p', { text: t('loading') }));
    var btn = el('button', { class: 'primary big', id: 'sync-now', text: t('sync_now'), onclick: function () {
      msg.textContent = '';
      api('POST', '/api/sync', {}).then(function (r) {
        msg.textContent = r.ok ? t('sync_started') + ' (' + t('sync_links') + ' ' + r.data.links_up + ')' : message(r);
        setTimeout(load, 1500);
      });
    } });
    if (!(state.me && state.me.may && state.me.may.sync)) btn.disabled = true;
    m.appendChild(el('h1', { text: t('sync_title') }));
    m.appendChild(el('div', { class: 'buttons' }, btn));
    m.appendChild(msg);
    m.appendChild(body);
    function load() {
      api('GET', '/api/sync').then(function (r) {
        clear(body);
        if (!r.ok) { body.appendChild(el('p', { class: 'error', text: message(r) })); return; }
        body.appendChild(el('p', { class: 'counts', text: t('sync_links') + ': ' + r.data.links_up + ' / ' + r.data.links }));
        if (!r.data.peers.length) { body.appendChild(el('p', { text: t('p_none') })); return; }
        var tb = el('tbody');
        r.data.peers.forEach(function (p) {
          tb.appendChild(el('tr', { class: p.connected ? 'online' : 'offline' },
            el('td', { text: p.name }),
            el('td', { text: p.role }),
            el('td', { text: p.path }),
            el('td', { class: p.connected ? 'ok' : 'no', text: p.connected ? t('p_online') : t('p_offline') }),
            el('td', { text: when(p.last_sync) }),
            el('td', { text: p.in_sync ? t('yes') : t('no') }),
            el('td', { text: String(p.ops_sent) }),
            el('td', { text: String(p.ops_received) })));
        });
        body.appendChild(el('table', {}, el('thead', {}, el('tr', {},
          el('th', { text: t('p_name') }), el('th', { text: t('p_role') }), el('th', { text: t('p_path') }),
          el('th', { text: t('p_state') }), el('th', { text: t('p_last_sync') }), el('th', { text: t('p_in_sync') }),
          el('th', { text: t('p_sent') }), el('th', { text: t('p_received') }))), tb));
      });
    }
    load();
    state.timer = setInterval(load, 5000);
  }

  /* ---- routing ------------------------------------------------------------------------ */

  function loadMe() {
    return api('GET', '/api/me').then(function (r) {
      if (!r.ok) { state.me = null; return false; }
      state.me = r.data;
      state.csrf = r.data.csrf;
      return Promise.all([refreshStatus(), api('GET', '/api/options').then(function (o) {
        if (o.ok) state.options = o.data;
      })]).then(function () { return true; });
    });
  }

  function route() {
    if (state.timer) { clearInterval(state.timer); state.timer = null; }
    var h = location.hash || '#/';
    frame();
    var m = main();
    clear(m);
    if (!state.me && h !== '#/login') { location.hash = '#/login'; return; }
    if (h === '#/login') return pageLogin(m);
    refreshStatus();
    if (h === '#/new') return pageNew(m);
    if (h === '#/sync') return pageSync(m);
    if (h.indexOf('#/case/') === 0) return pageCase(m, decodeURIComponent(h.slice(7)));
    return pageHome(m);
  }

  window.addEventListener('hashchange', route);
  window.WH = { renderBanner: renderBanner, t: t, el: el };
  loadMe().then(route, route);
})();
