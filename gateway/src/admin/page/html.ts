// The status page's markup: static (no data in it; the script fills it from /status.json), semantic
// (landmarks, tables with captions and header cells, a labelled search form), and nothing inline, so that
// the Content-Security-Policy can forbid inline script and style altogether.
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>MCP gateway status</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/status.css">
<script src="/status.js" defer></script>
</head>
<body>
<header class="top">
  <div>
    <h1>MCP gateway status</h1>
    <p id="replica-line" class="muted">Loading…</p>
  </div>
  <p id="refresh" class="refresh" role="status" aria-live="polite">Connecting…</p>
</header>
<main>
  <form id="token-form" class="card token" hidden>
    <h2>Status token</h2>
    <p>This gateway serves its status only with its own token (STATUS_TOKEN).</p>
    <label for="token">Token</label>
    <input id="token" name="token" type="password" autocomplete="off" required>
    <button type="submit">Use token</button>
  </form>

  <section class="card" aria-labelledby="lookup-title">
    <h2 id="lookup-title">Find a session</h2>
    <form id="lookup" role="search" class="lookup">
      <label for="lookup-id">Mcp-Session-Id or task id</label>
      <div class="row">
        <input id="lookup-id" name="id" type="search" autocomplete="off" spellcheck="false" maxlength="256" required aria-describedby="lookup-help">
        <button type="submit">Look up</button>
      </div>
      <p id="lookup-help" class="muted">Paste the id and press Enter. The principal is shown as a digest, never as a token.</p>
    </form>
    <div id="lookup-result" aria-live="polite"></div>
  </section>

  <section class="card" aria-labelledby="backends-title">
    <h2 id="backends-title">Backends</h2>
    <table id="backends" class="stack">
      <caption>Every backend this replica routes to; traffic over the last minute</caption>
      <thead><tr>
        <th scope="col">Backend</th><th scope="col">State</th><th scope="col">Since</th><th scope="col">Incarnation</th>
        <th scope="col" class="num">Sessions</th><th scope="col" class="num">Req/s</th><th scope="col" class="num">Err/s</th>
        <th scope="col" class="num">p50</th><th scope="col" class="num">p99</th>
      </tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <section class="card" aria-labelledby="totals-title">
    <h2 id="totals-title">Totals</h2>
    <dl id="totals" class="figures"></dl>
    <table id="eras" class="stack">
      <caption>Traffic by protocol era over the last minute</caption>
      <thead><tr><th scope="col">Era</th><th scope="col" class="num">New sessions/min</th><th scope="col" class="num">Req/s</th><th scope="col" class="num">Err/s</th><th scope="col" class="num">p99</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>

  <div class="pair">
    <section class="card" aria-labelledby="store-title">
      <h2 id="store-title">Session store</h2>
      <dl id="store" class="facts"></dl>
    </section>
    <section class="card" aria-labelledby="discovery-title">
      <h2 id="discovery-title">Discovery</h2>
      <dl id="discovery" class="facts"></dl>
    </section>
  </div>

  <section class="card" aria-labelledby="replicas-title">
    <h2 id="replicas-title">Gateway replicas</h2>
    <table id="replicas" class="stack">
      <caption>This replica and the others it knows of through the session store</caption>
      <thead><tr><th scope="col">Replica</th><th scope="col">Host</th><th scope="col">Version</th><th scope="col" class="num">Uptime</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
</main>
<footer class="muted"><p>JSON: <a href="/status.json">/status.json</a> and /sessions/&lt;id&gt; (README, "Status page").</p></footer>
</body>
</html>
`;
