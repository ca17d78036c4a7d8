// The status page's style: system fonts, light and dark, readable at 1280 px and at a phone's 390 px (tables
// turn into one card per row there, each cell labelled by its column).
export const PAGE_STYLE = String.raw`
:root { color-scheme: light dark; --bg: #f5f6f8; --card: #fff; --fg: #1b1f24; --muted: #5b6470; --line: #d9dde3;
  --ok: #1a7f37; --warn: #9a6700; --bad: #cf222e; --accent: #0b5cad; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0f1216; --card: #171b21; --fg: #e6e8eb; --muted: #9aa4b0; --line: #2c333c; --ok: #3fb950; --warn: #d29922; --bad: #f85149; --accent: #58a6ff; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
h1 { font-size: 1.35rem; margin: 0; }
h2 { font-size: 1.05rem; margin: 0 0 .6rem; }
.muted { color: var(--muted); }
.top { display: flex; justify-content: space-between; align-items: flex-end; gap: 1rem; padding: 1rem 1.5rem .5rem; flex-wrap: wrap; }
.top p { margin: .15rem 0 0; }
.refresh { font-size: .9rem; color: var(--muted); }
.refresh.stale { color: var(--bad); font-weight: 600; }
main { padding: .5rem 1.5rem 1rem; display: grid; gap: 1rem; max-width: 1400px; }
footer { padding: 0 1.5rem 1.5rem; font-size: .85rem; }
a { color: var(--accent); }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 1rem 1.1rem; min-width: 0; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1rem; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding-bottom: .4rem; }
th, td { text-align: left; padding: .4rem .55rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); font-weight: 600; }
th.num, td.num { text-align: right; }
tbody tr:last-child td, tbody tr:last-child th { border-bottom: 0; }
tbody th { font-weight: 600; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: .05rem .5rem; border-radius: 999px; font-size: .8rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.s-serving { color: var(--ok); }
.s-draining, .s-not-ready { color: var(--warn); }
.s-ejected, .s-lost { color: var(--bad); }
.cause { display: block; font-size: .8rem; color: var(--muted); }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(9.5rem, 1fr)); gap: .6rem; margin: 0 0 1rem; }
.figures div { border: 1px solid var(--line); border-radius: 6px; padding: .5rem .7rem; }
.figures dt { font-size: .8rem; color: var(--muted); }
.figures dd { margin: 0; font-size: 1.3rem; font-weight: 600; font-variant-numeric: tabular-nums; }
.figures dd small { font-size: .8rem; font-weight: 400; color: var(--muted); }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
.facts dt { color: var(--muted); }
.facts dd { margin: 0; word-break: break-word; }
.lookup label { font-weight: 600; display: block; margin-bottom: .3rem; }
.row { display: flex; gap: .5rem; }
input { flex: 1; min-width: 0; font: inherit; padding: .45rem .6rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); color: var(--fg); }
button { font: inherit; padding: .45rem 1rem; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; }
input:focus-visible, button:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.lookup p { margin: .4rem 0 0; font-size: .85rem; }
#lookup-result:not(:empty) { margin-top: .8rem; }
.result { border-left: 4px solid var(--accent); padding: .4rem .8rem; }
.result.missing { border-color: var(--bad); }
.result h3 { font-size: 1rem; margin: 0 0 .4rem; }
.token { border-color: var(--warn); }
.token input { width: 100%; margin: .3rem 0 .6rem; }
@media (max-width: 720px) {
  .top, main, footer { padding-left: .75rem; padding-right: .75rem; }
  .pair { grid-template-columns: 1fr; }
  .card { padding: .8rem; }
  table.stack thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
  table.stack, table.stack caption, table.stack tbody, table.stack tr, table.stack th, table.stack td { display: block; width: 100%; }
  table.stack tr { border: 1px solid var(--line); border-radius: 6px; margin-bottom: .6rem; padding: .3rem .2rem; }
  table.stack td, table.stack tbody th { border: 0; display: flex; justify-content: space-between; gap: 1rem; text-align: right; padding: .2rem .5rem; }
  table.stack td::before, table.stack tbody th::before { content: attr(data-label); color: var(--muted); font-weight: 400; text-align: left; flex: none; }
  table.stack td.num { text-align: right; }
  .cause { display: inline; margin-left: .3rem; }
  .figures dd { font-size: 1.1rem; }
  .facts { grid-template-columns: 1fr; gap: 0; }
  .facts dd { margin-bottom: .4rem; }
}
`;
