// The dashboard page: one static HTML document with its own CSS and script, no libraries.
// It listens to /events (server-sent events) and draws every server with its DIMEs (state,
// service, heartbeat age, CPU and memory gauges), the routes between DIMEs as arrows, and an
// event log of alarms and policy actions. Kept as a string so it ships inside dist/.
export const DASHBOARD_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Parallax dashboard</title>
<style>
  :root { --bg:#0f1419; --card:#19212b; --line:#2b3642; --text:#d8dee6; --dim:#7d8a97; --ok:#3fb950; --warn:#d29922; --bad:#f85149; --accent:#58a6ff; }
  * { box-sizing: border-box; }
  body { margin:0; font:13px/1.4 system-ui, sans-serif; background:var(--bg); color:var(--text); display:grid; grid-template-columns: 1fr 380px; grid-template-rows:auto 1fr; height:100vh; }
  header { grid-column: 1 / 3; padding:10px 16px; border-bottom:1px solid var(--line); display:flex; gap:24px; align-items:baseline; }
  header h1 { font-size:16px; margin:0; }
  header .meta { color:var(--dim); }
  #network { position:relative; padding:16px; overflow:auto; }
  #routes { position:absolute; left:0; top:0; pointer-events:none; overflow:visible; }
  #routes path { fill:none; stroke:var(--accent); stroke-width:2; opacity:.85; }
  #routes path.from-console { stroke-dasharray:5 4; stroke:var(--warn); }
  #routes path.to-orchestrator, #routes path.from-orchestrator { stroke:#a371f7; }
  #routes path.to-console { stroke:var(--warn); }
  #orch { display:inline-block; padding:6px 12px; border:1px solid #a371f7; border-radius:6px; margin:0 0 110px 300px; color:#a371f7; }
  #servers { display:flex; flex-wrap:wrap; gap:28px; align-items:flex-start; }
  .server { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:10px; min-width:260px; }
  .server h2 { font-size:14px; margin:0 0 2px; }
  .server .mac, .server .pool { color:var(--dim); font-size:11px; }
  .dimes { display:grid; grid-template-columns: repeat(2, 150px); gap:10px; margin:10px 0; }
  .dime { border:1px solid var(--line); border-radius:6px; padding:6px 8px; background:#121a22; }
  .dime .name { font-weight:600; }
  .dime .state { float:right; font-size:11px; padding:0 6px; border-radius:8px; background:#2b3642; }
  .dime.running .state { background:#1f4d2c; color:var(--ok); }
  .dime.suspended .state { background:#4d3d12; color:var(--warn); }
  .dime.loaded .state, .dime.loading .state { background:#12304d; color:var(--accent); }
  .dime.missing { border-color:var(--bad); box-shadow:0 0 0 1px var(--bad); }
  .dime.missing .state { background:#5a1d1d; color:var(--bad); }
  .dime .service { color:var(--accent); min-height:17px; overflow:hidden; white-space:nowrap; text-overflow:ellipsis; }
  .dime .role { color:var(--dim); font-size:11px; min-height:15px; }
  .dime .hb { color:var(--dim); font-size:11px; }
  .gauge { height:7px; background:#0b1015; border-radius:4px; margin:3px 0; position:relative; }
  .gauge .bar { height:100%; border-radius:4px; background:var(--ok); width:0; transition:width .3s; }
  .gauge.cpu .bar.high { background:var(--bad); }
  .gauge.mem .bar { background:var(--accent); }
  .gauge-label { font-size:10px; color:var(--dim); display:flex; justify-content:space-between; }
  .console { display:inline-block; border:1px dashed var(--warn); color:var(--warn); border-radius:6px; padding:3px 10px; font-size:11px; }
  aside { border-left:1px solid var(--line); display:flex; flex-direction:column; min-height:0; }
  aside h3 { margin:0; padding:10px 12px; font-size:13px; border-bottom:1px solid var(--line); }
  #log { list-style:none; margin:0; padding:0; overflow:auto; flex:1; font-family:ui-monospace, monospace; font-size:11px; }
  #log li { padding:4px 12px; border-bottom:1px solid #151c24; }
  #log li .t { color:var(--dim); margin-right:6px; }
  #log li.alarm, #log li.missing, #log li.failed { color:var(--bad); }
  #log li.policy { color:var(--warn); }
  #log li.back, #log li.discovered { color:var(--ok); }
  #status.off { color:var(--bad); }
</style>
</head>
<body>
<header>
  <h1>Parallax dashboard</h1>
  <span class="meta" id="summary">connecting…</span>
  <span class="meta" id="linkstats"></span>
  <span class="meta" id="status">live</span>
</header>
<main id="network">
  <svg id="routes" xmlns="http://www.w3.org/2000/svg">
    <defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#58a6ff"></path></marker></defs>
  </svg>
  <div id="orch" data-node="orchestrator">orchestrator</div>
  <div id="servers"></div>
</main>
<aside>
  <h3>Events: alarms, policy actions, commands</h3>
  <ul id="log"></ul>
</aside>
<script>
(function () {
  var latest = null;
  var logged = {};
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function age(ms) { if (ms === null || ms === undefined) return 'no heartbeat yet'; return (ms < 10000 ? (ms / 1000).toFixed(1) : Math.round(ms / 1000)) + ' s ago'; }
  function gauge(kind, pct, label) {
    var wrap = el('div');
    var l = el('div', 'gauge-label'); l.appendChild(el('span', '', label)); l.appendChild(el('span', 'value', pct === null ? '-' : pct.toFixed(0) + '%'));
    var g = el('div', 'gauge ' + kind); var b = el('div', 'bar'); b.style.width = (pct === null ? 0 : Math.min(100, pct)) + '%';
    if (kind === 'cpu' && pct !== null && pct > 80) b.className = 'bar high';
    g.appendChild(b); wrap.appendChild(l); wrap.appendChild(g); return wrap;
  }
  function render(state) {
    latest = state;
    var dimeCount = 0;
    var box = document.getElementById('servers');
    box.textContent = '';
    state.servers.forEach(function (s) {
      var card = el('section', 'server'); card.setAttribute('data-server', s.label);
      card.appendChild(el('h2', '', s.label));
      card.appendChild(el('div', 'mac', s.mac + ' · ' + s.cores + ' cores'));
      card.appendChild(el('div', 'pool', 'memory pool: ' + (s.poolTotal - s.poolFree) + '/' + s.poolTotal + ' chunks used'));
      var grid = el('div', 'dimes');
      s.dimes.forEach(function (d) {
        dimeCount++;
        var health = d.health === 'missing' ? ' missing' : '';
        var c = el('div', 'dime ' + d.stateName + health); c.setAttribute('data-dime', d.label);
        var head = el('div'); head.appendChild(el('span', 'name', 'DIME ' + d.core)); head.appendChild(el('span', 'state', d.health === 'missing' ? 'silent' : d.stateName));
        c.appendChild(head);
        c.appendChild(el('div', 'service', d.service || '—'));
        c.appendChild(el('div', 'role', d.role || ''));
        c.appendChild(el('div', 'hb', d.heartbeatMs ? '♥ ' + age(d.heartbeatAgeMs) + ' (every ' + d.heartbeatMs + ' ms)' : 'heartbeat off'));
        c.appendChild(gauge('cpu', d.cpuPct === undefined || d.cpuPct === null ? null : d.cpuPct, 'CPU'));
        c.appendChild(gauge('mem', d.memPct, 'memory ' + d.memUsed + '/' + d.memLimit));
        grid.appendChild(c);
      });
      card.appendChild(grid);
      var con = el('div', 'console', 'console of ' + s.label); con.setAttribute('data-console', s.label);
      card.appendChild(con);
      box.appendChild(card);
    });
    document.getElementById('summary').textContent = state.servers.length + ' servers, ' + dimeCount + ' DIMEs · orchestrator ' + state.orchestrator;
    var ls = state.link;
    document.getElementById('linkstats').textContent = 'frames sent ' + ls.sent + ', received ' + ls.received + ', forged ' + ls.forged + ', replayed ' + ls.replayed;
    (state.events || []).forEach(addEvent);
    drawRoutes();
  }
  function centre(node, side) {
    var net = document.getElementById('network').getBoundingClientRect();
    var r = node.getBoundingClientRect();
    var x = r.left - net.left + document.getElementById('network').scrollLeft;
    var y = r.top - net.top + document.getElementById('network').scrollTop;
    if (side === 'top') return { x: x + r.width / 2, y: y };
    if (side === 'bottom') return { x: x + r.width / 2, y: y + r.height };
    return { x: x + r.width / 2, y: y + r.height / 2 };
  }
  /** an arc over the boxes: leaves a DIME's top, lands on the other's top */
  function arc(a, b) {
    var lift = 40 + Math.min(80, Math.abs(b.x - a.x) / 6);
    var top = Math.min(a.y, b.y) - lift;
    return 'M' + a.x + ',' + a.y + ' C' + a.x + ',' + top + ' ' + b.x + ',' + top + ' ' + b.x + ',' + b.y;
  }
  function curve(a, b) {
    var dy = Math.max(30, Math.abs(b.y - a.y) / 2);
    return 'M' + a.x + ',' + a.y + ' C' + a.x + ',' + (a.y + (b.y > a.y ? dy : -dy)) + ' ' + b.x + ',' + (b.y + (b.y > a.y ? -dy : dy)) + ' ' + b.x + ',' + b.y;
  }
  function drawRoutes() {
    if (!latest) return;
    var svg = document.getElementById('routes');
    var net = document.getElementById('network');
    svg.setAttribute('width', net.scrollWidth); svg.setAttribute('height', net.scrollHeight);
    Array.prototype.slice.call(svg.querySelectorAll('path.route')).forEach(function (p) { p.remove(); });
    function line(a, b, cls, from, to, shape) {
      var p = document.createElementNS('http://www.w3.org/2000/svg', 'path');
      p.setAttribute('d', (shape || curve)(a, b)); p.setAttribute('class', 'route ' + cls); p.setAttribute('marker-end', 'url(#arrow)');
      p.setAttribute('data-from', from); p.setAttribute('data-to', to);
      svg.appendChild(p);
    }
    latest.servers.forEach(function (s) {
      s.dimes.forEach(function (d) {
        var me = document.querySelector('[data-dime="' + d.label + '"]');
        if (!me || !d.routesKnown) return;
        var orch = document.getElementById('orch');
        if (d.output.kind === 'dime') {
          var to = document.querySelector('[data-dime="' + d.output.dime + '"]');
          if (to) line(centre(me, 'top'), centre(to, 'top'), 'dime-to-dime', d.label, d.output.dime, arc);
        } else if (d.output.kind === 'orchestrator' && d.service) {
          line(centre(me, 'top'), centre(orch, 'bottom'), 'to-orchestrator', d.label, 'orchestrator');
        } else if (d.output.kind === 'console' && d.service) {
          var c = document.querySelector('[data-console="' + s.label + '"]');
          if (c) line(centre(me, 'bottom'), centre(c, 'top'), 'to-console', d.label, 'console');
        }
        if (d.input.kind === 'console') {
          var ci = document.querySelector('[data-console="' + s.label + '"]');
          if (ci) line(centre(ci, 'top'), centre(me, 'bottom'), 'from-console', 'console', d.label);
        } else if (d.input.kind === 'orchestrator' && d.service) {
          line(centre(orch, 'bottom'), centre(me, 'top'), 'from-orchestrator', 'orchestrator', d.label);
        }
      });
    });
  }
  function addEvent(e) {
    var key = e.at + '|' + e.type + '|' + e.text;
    if (logged[key]) return;
    logged[key] = true;
    var li = el('li', e.type + ((e.ok === false) ? ' failed' : ''));
    li.setAttribute('data-type', e.type);
    li.appendChild(el('span', 't', new Date(e.at).toISOString().slice(11, 23)));
    li.appendChild(document.createTextNode(e.text));
    var log = document.getElementById('log');
    log.insertBefore(li, log.firstChild);
    while (log.children.length > 300) log.removeChild(log.lastChild);
  }
  var es = new EventSource('/events');
  es.addEventListener('state', function (m) { render(JSON.parse(m.data)); document.getElementById('status').className = 'meta'; document.getElementById('status').textContent = 'live'; });
  es.addEventListener('event', function (m) { addEvent(JSON.parse(m.data)); });
  es.onerror = function () { var s = document.getElementById('status'); s.className = 'meta off'; s.textContent = 'disconnected, retrying…'; };
  window.addEventListener('resize', drawRoutes);
})();
</script>
</body>
</html>
`;
