// `mcp-gateway --help`, generated from the option table so that it can never miss an option.
import { OPTIONS } from './options.ts';

export function helpText(): string {
  const lines = [
    'mcp-gateway: session-aware reverse proxy and load balancer for MCP (Streamable HTTP, HTTP+SSE, stateless).',
    '',
    'Usage: mcp-gateway --backends URL[,URL...] [--redis-url redis://host:6379] [options]',
    '       mcp-gateway --discovery dns --dns-name mcp-headless.ns.svc.cluster.local:8080 [options]',
    '       mcp-gateway --discovery kubernetes --k8s-service ns/mcp [--k8s-port mcp] [options]',
    '',
    'Every option can also be set by its environment variable, or in a JSON file given by',
    '--config FILE (CONFIG_FILE) whose keys are the flag names. Flags beat the environment, which beats the',
    'file. Durations take a unit: 500ms, 15s, 2m, 1h.',
    '',
    'Options:',
  ];
  const width = Math.max(...OPTIONS.map((o) => o.flag.length + (o.boolean ? 0 : 8))) + 4;
  for (const o of OPTIONS) {
    const left = `  --${o.flag}${o.boolean ? '' : ' <value>'}`;
    lines.push(`${left.padEnd(width + 2)} ${o.help}`);
    const secret = o.secret ? '; a secret: environment or config file only, never the flag' : '';
    lines.push(`${''.padEnd(width + 2)} env ${o.env}; default ${o.defaultText}${secret}`);
  }
  lines.push(`  ${'--config <file>'.padEnd(width)} JSON config file (env CONFIG_FILE).`);
  lines.push(`  ${'--help, -h'.padEnd(width)} Show this help.`);
  lines.push(`  ${'--version'.padEnd(width)} Print the version.`);
  lines.push('', 'Exit codes: 0 after a clean shutdown, 1 on a runtime failure, 2 on invalid configuration.');
  return lines.join('\n') + '\n';
}
