#!/usr/bin/env node
// Entry point of the `mcp-gateway` command: the compiled gateway (run `npm run build` in a checkout).
import { main } from '../dist/gateway/src/main.js';

main(process.argv.slice(2)).catch((err) => {
  process.stderr.write(`mcp-gateway: ${err?.stack ?? String(err)}\n`);
  process.exit(1);
});
