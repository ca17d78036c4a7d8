// The status page's script: plain browser JavaScript, no library, no build step. It polls /status.json and
// redraws the tables in place (no full reload), and runs the session lookup. Data is only ever put in the
// page as text (textContent), never as markup. Kept free of backticks and dollar-brace so that it can live in
// this String.raw literal unchanged.
export const PAGE_SCRIPT = String.raw`'use strict';
(function () {
  var POLL_MS = 2000;
  var token = sessionStorage.getItem('mcp-gateway-status-token') || '';
  var lastOk = 0;
  var timer = 0;

  function $(id) { return document.getElementById(id); }
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) if (attrs[k] !== undefined && attrs[k] !== null) e.setAttribute(k, attrs[k]);
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function headers() { return token ? { authorization: 'Bearer ' + token } : {}; }

  function ago(ms) {
    if (ms === null || ms === undefined) return '—';
    var s = Math.max(0, Math.round((Date.now() - ms) / 1000));
    return duration(s) + ' ago';
  }
  function duration(s) {
    if (s < 60) return s + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + (s % 60) + ' s';
    if (s < 86400) return Math.floor(s / 3600) + ' h ' + Math.floor((s % 3600) / 60) + ' min';
    return Math.floor(s / 86400) + ' d ' + Math.floor((s % 86400) / 3600) + ' h';
  }
  /** Latency figures are bucket upper bounds (admin/traffic-window.ts), hence the sign. */
  function ms(v) { return v === null || v === undefined ? '—' : '≤' + (v >= 1000 ? (v / 1000) + ' s' : v + ' ms'); }
  function rate(v) { return v === 0 ? '0' : v.toFixed(2); }
  function time(epoch) { return epoch ? new Date(epoch).toLocaleString() : '—'; }

  /** A readable name for a backend id: a URL's host:port (the full id is in the title). */
  function shortName(id) {
    try { var u = new URL(id); return u.host + (u.pathname !== '/mcp' ? u.pathname : ''); } catch (e) { return id; }
  }

  function fillRows(table, rows) {
    var body = table.tBodies[0];
    var labels = Array.prototype.map.call(table.tHead.rows[0].cells, function (c) { return c.textContent; });
    var fresh = document.createDocumentFragment();
    rows.forEach(function (row) {
      var tr = el('tr', row.attrs);
      row.cells.forEach(function (cell, i) {
        var c = el(i === 0 ? 'th' : 'td', { 'data-label': labels[i], class: cell.cls, title: cell.title, scope: i === 0 ? 'row' : null });
        if (cell.node) c.appendChild(cell.node); else c.textContent = cell.text;
        tr.appendChild(c);
      });
      fresh.appendChild(tr);
    });
    if (rows.length === 0) {
      var tr = el('tr');
      tr.appendChild(el('td', { colspan: String(labels.length) }, 'none'));
      fresh.appendChild(tr);
    }
    body.replaceChildren(fresh);
  }

  function facts(dl, pairs) {
    var frag = document.createDocumentFragment();
    pairs.forEach(function (p) { frag.appendChild(el('dt', null, p[0])); frag.appendChild(el('dd', p[2] ? { class: p[2] } : null, p[1])); });
    dl.replaceChildren(frag);
  }

  function stateNode(b) {
    var span = el('span', null);
    span.appendChild(el('span', { class: 'badge s-' + b.state }, b.state));
    if (b.stateCause) span.appendChild(el('span', { class: 'cause' }, b.stateCause));
    return span;
  }

  function render(s) {
    var r = s.replica;
    $('replica-line').textContent = 'Replica ' + r.id + ' on ' + r.host + ' · version ' + r.version + ' · up ' + duration(r.uptimeSeconds) + ' · ' + r.phase;
    fillRows($('backends'), s.backends.map(function (b) {
      var m = b.lastMinute;
      return {
        attrs: { 'data-backend': b.id, 'data-state': b.state },
        cells: [
          { text: shortName(b.id), title: b.id },
          { node: stateNode(b), cls: 'state' },
          { text: ago(b.stateSince) },
          { text: b.incarnation || '—' },
          { text: b.sessions, cls: 'num sessions' },
          { text: rate(m.requestsPerSecond), cls: 'num' },
          { text: rate(m.errorsPerSecond), cls: 'num' + (m.errors > 0 ? ' s-ejected' : '') },
          { text: ms(m.p50Ms), cls: 'num' },
          { text: ms(m.p99Ms), cls: 'num' }
        ]
      };
    }));

    var t = s.totals;
    var figures = [
      ['Sessions bound', t.sessionsBound, null],
      ['Open streams', t.streamsOpen, null],
      ['Resumes', t.resumes.lastMinute, t.resumes.total],
      ['Limit rejections', t.limitRejections.lastMinute, t.limitRejections.total],
      ['Auth failures', t.authFailures.lastMinute, t.authFailures.total],
      ['Sessions lost', t.sessionsLost.lastMinute, t.sessionsLost.total]
    ];
    var frag = document.createDocumentFragment();
    figures.forEach(function (f) {
      var box = el('div');
      box.appendChild(el('dt', null, f[0] + (f[2] === null ? '' : ', last minute')));
      var dd = el('dd', null, f[1]);
      if (f[2] !== null) dd.appendChild(el('small', null, ' / ' + f[2] + ' since start'));
      box.appendChild(dd);
      frag.appendChild(box);
    });
    $('totals').replaceChildren(frag);
    var eraNames = { sessions: 'Sessions (2025-03-26 … 2025-11-25)', stateless: 'Stateless (2026-07-28)', 'legacy-sse': 'Legacy HTTP+SSE (2024-11-05)' };
    fillRows($('eras'), Object.keys(t.eras).map(function (k) {
      var e = t.eras[k];
      return { attrs: { 'data-era': k }, cells: [{ text: eraNames[k] || k }, { text: e.newSessionsPerMinute, cls: 'num' }, { text: rate(e.requestsPerSecond), cls: 'num' }, { text: rate(e.errorsPerSecond), cls: 'num' }, { text: ms(e.p99Ms), cls: 'num' }] };
    }));

    var st = s.store;
    facts($('store'), [
      ['Kind', st.kind + (st.shared ? ' (shared by replicas)' : ' (this replica only)')],
      ['State', st.degraded ? 'degraded since ' + time(st.failingSince) : (st.reachable ? 'reachable' : 'not answered yet'), st.degraded ? 's-ejected' : 's-serving'],
      ['Write-back queue', st.writeBackQueue],
      ['Last error', st.lastError ? st.lastError.operation + ': ' + st.lastError.message + ' (' + ago(st.lastError.at) + ')' : 'none'],
      ['Session TTL', duration(Math.round(st.sessionTtlMs / 1000))]
    ]);
    var d = s.discovery;
    facts($('discovery'), [
      ['Mode', d.mode],
      ['Synced', d.synced ? (d.failing ? 'yes, but the last attempt failed' : 'yes') : 'not yet', d.failing ? 's-ejected' : null],
      ['Lag bound', d.lagBoundMs === 0 ? 'none (static list)' : duration(Math.round(d.lagBoundMs / 1000))],
      ['Last change', ago(d.lastChangeAt)]
    ]);
    fillRows($('replicas'), s.replicas.map(function (x) {
      return { attrs: { 'data-replica': x.id }, cells: [{ text: x.id + (x.self ? ' (this one)' : '') }, { text: x.host + ':' + x.adminPort }, { text: x.version }, { text: duration(x.uptimeSeconds), cls: 'num' }] };
    }));
  }

  function setRefresh(text, stale) {
    var p = $('refresh');
    p.textContent = text;
    p.classList.toggle('stale', !!stale);
  }

  function poll() {
    clearTimeout(timer);
    fetch('/status.json', { headers: headers(), cache: 'no-store' }).then(function (res) {
      if (res.status === 401) { askToken(); return null; }
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json();
    }).then(function (s) {
      if (!s) return;
      $('token-form').hidden = true;
      render(s);
      lastOk = Date.now();
      setRefresh('Updated ' + new Date(lastOk).toLocaleTimeString() + ' · every ' + POLL_MS / 1000 + ' s', false);
    }).catch(function (err) {
      setRefresh('Not answering (' + err.message + ')' + (lastOk ? '; last update ' + new Date(lastOk).toLocaleTimeString() : ''), true);
    }).finally(function () {
      timer = setTimeout(poll, POLL_MS);
    });
  }

  function askToken() {
    $('token-form').hidden = false;
    setRefresh('Waiting for the status token', true);
  }

  function showLookup(status, body) {
    var out = $('lookup-result');
    var box = el('div', { class: 'result' + (status === 200 ? '' : ' missing') });
    if (status !== 200) {
      box.appendChild(el('h3', null, status === 404 ? 'No such session' : 'Lookup failed'));
      box.appendChild(el('p', null, body.error || ('HTTP ' + status)));
    } else {
      box.appendChild(el('h3', null, 'Session ' + body.id));
      var dl = el('dl', { class: 'facts', id: 'lookup-facts' });
      facts(dl, [
        ['Backend', body.backend], ['Backend state', body.backendState], ['Incarnation', body.incarnation || '—'],
        ['Era', body.era], ['Protocol version', body.protocolVersion || '—'], ['Principal', body.principal || 'none (auth off)'],
        ['Created', time(body.createdAt) + ' (' + ago(body.createdAt) + ')'], ['Last seen (approx.)', ago(body.lastSeenAt)],
        ['TTL left', duration(Math.round(body.ttlLeftMs / 1000))], ['Resumes', body.resumes]
      ]);
      box.appendChild(dl);
    }
    out.replaceChildren(box);
  }

  document.addEventListener('DOMContentLoaded', function () {
    $('lookup').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var id = $('lookup-id').value.trim();
      if (!id) return;
      $('lookup-result').replaceChildren(el('p', { class: 'muted' }, 'Looking up…'));
      fetch('/sessions/' + encodeURIComponent(id), { headers: headers(), cache: 'no-store' }).then(function (res) {
        if (res.status === 401) { askToken(); throw new Error('the status token is required'); }
        return res.json().then(function (body) { showLookup(res.status, body); });
      }).catch(function (err) { showLookup(0, { error: err.message }); });
    });
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      token = $('token').value.trim();
      sessionStorage.setItem('mcp-gateway-status-token', token);
      $('token').value = '';
      poll();
    });
    poll();
  });
})();
`;
