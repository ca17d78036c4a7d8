// Runs a Dockerfile's stages outside Docker (no Docker engine runs here), for testing what the image build
// does: each stage gets a directory of its own standing in for its root filesystem; COPY copies from the
// build context (filtered by .dockerignore, as Docker filters it) or from another stage's directory; RUN runs
// in the stage's WORKDIR with the stage's ENV. Base images are not fetched: the host's Node stands in for
// theirs (same major: the repository pins Node 26, the images are Node 26). An instruction this interpreter
// does not know fails the run, so a new kind of step cannot slip by untested.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface Instruction {
  op: string;
  args: string;
  line: number;
}

export interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

export interface BuiltStage {
  name: string;
  /** Directory standing in for the stage's filesystem root. */
  root: string;
  /** WORKDIR at the end of the stage (absolute inside the image). */
  workdir: string;
  env: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
  user: string | undefined;
  exposed: string[];
}

/** Splits a Dockerfile into stages; ARGs declared before the first FROM are expanded in FROM lines. */
export function parseDockerfile(text: string): Stage[] {
  const logical: Array<{ text: string; line: number }> = [];
  let current = '';
  let start = 0;
  for (const [i, raw] of text.split('\n').entries()) {
    if (current === '' && /^\s*(#.*)?$/.test(raw)) continue; // comments, parser directives, blank lines
    if (current === '') start = i + 1;
    if (raw.endsWith('\\')) {
      current += raw.slice(0, -1) + ' ';
      continue;
    }
    logical.push({ text: (current + raw).trim(), line: start });
    current = '';
  }
  const globalArgs = new Map<string, string>();
  const stages: Stage[] = [];
  for (const { text: l, line } of logical) {
    const m = /^(\S+)\s*(.*)$/.exec(l) as RegExpExecArray;
    const op = (m[1] as string).toUpperCase();
    const args = m[2] as string;
    if (op === 'ARG' && stages.length === 0) {
      const [k, v = ''] = args.split('=', 2) as [string, string?];
      globalArgs.set(k, v);
    } else if (op === 'FROM') {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`line ${line}: cannot read FROM ${args}`);
      const base = (from[1] as string).replace(/\$\{(\w+)\}|\$(\w+)/g, (_, a: string, b: string) => globalArgs.get(a ?? b) ?? '');
      stages.push({ name: from[2] ?? `stage-${stages.length}`, base, instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`line ${line}: ${op} before FROM`);
      stage.instructions.push({ op, args, line });
    }
  }
  return stages;
}

/** Docker's .dockerignore matching: last matching pattern wins, `!` re-includes, a pattern matching a parent directory matches its content. */
export function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = (negate ? l.slice(1) : l).replace(/^\/+/, '').replace(/\/+$/, '');
      const source = pattern
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/');
      return { negate, pattern, re: new RegExp(`^${source}$`) };
    });
  return (path: string) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let excluded = false;
    for (const r of rules) if (prefixes.some((p) => r.re.test(p))) excluded = !r.negate;
    return excluded;
  };
}

function splitWords(args: string): string[] {
  return args.match(/(?:[^\s"]+|"[^"]*")+/g)?.map((w) => w.replace(/^"|"$/g, '')) ?? [];
}

function execForm(args: string, what: string): string[] {
  const parsed = JSON.parse(args) as unknown;
  if (!Array.isArray(parsed)) throw new Error(`${what} must use the exec form (a JSON array): ${args}`);
  return parsed as string[];
}

export interface BuildOptions {
  /** The build context (the repository). */
  context: string;
  /** An empty directory; each stage gets a subdirectory. */
  out: string;
  /** Environment for RUN (PATH must find node and npm). */
  env: NodeJS.ProcessEnv;
  /** One line per step, for the test's diagnostics. */
  log?: (line: string) => void;
}

export function buildOutsideDocker(stages: Stage[], o: BuildOptions): Map<string, BuiltStage> {
  const ignored = existsSync(join(o.context, '.dockerignore')) ? dockerignore(readFileSync(join(o.context, '.dockerignore'), 'utf8')) : () => false;
  const built = new Map<string, BuiltStage>();
  for (const stage of stages) {
    const s: BuiltStage = { name: stage.name, root: join(o.out, stage.name), workdir: '/', env: {}, entrypoint: [], cmd: [], user: undefined, exposed: [] };
    mkdirSync(s.root, { recursive: true });
    const inImage = (p: string) => join(s.root, p.startsWith('/') ? p : join(s.workdir, p));
    for (const ins of stage.instructions) {
      o.log?.(`[${stage.name}] ${ins.op} ${ins.args}`);
      switch (ins.op) {
        case 'WORKDIR':
          s.workdir = ins.args.startsWith('/') ? ins.args : join(s.workdir, ins.args);
          mkdirSync(inImage('.'), { recursive: true });
          break;
        case 'COPY': {
          const words = splitWords(ins.args);
          const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
          const paths = words.filter((w) => !w.startsWith('--'));
          const dest = paths.pop() as string;
          const intoDir = dest.endsWith('/') || dest === '.' || paths.length > 1;
          for (const src of paths) {
            let source: string;
            if (from) {
              const other = built.get(from);
              if (!other) throw new Error(`line ${ins.line}: COPY --from=${from}: no such stage before this one`);
              source = join(other.root, src);
            } else {
              if (ignored(src)) throw new Error(`line ${ins.line}: COPY ${src}: excluded from the build context by .dockerignore`);
              source = join(o.context, src);
            }
            if (!existsSync(source)) throw new Error(`line ${ins.line}: COPY ${src}: not found`);
            const target = statSync(source).isDirectory() || !intoDir ? inImage(dest) : join(inImage(dest), src.split('/').pop() as string);
            mkdirSync(dirname(target), { recursive: true });
            // Between stages everything is copied; from the context, what .dockerignore lets through.
            const filter = from === undefined ? (p: string) => relative(o.context, p) === '' || !ignored(relative(o.context, p)) : undefined;
            cpSync(source, target, { recursive: true, verbatimSymlinks: true, ...(filter ? { filter } : {}) });
          }
          break;
        }
        case 'RUN':
          execFileSync('sh', ['-c', ins.args], { cwd: inImage('.'), env: { ...o.env, ...s.env }, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
          break;
        case 'ENV':
          for (const [, k, v] of ins.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) s.env[k as string] = (v as string).replace(/^"|"$/g, '');
          break;
        case 'ENTRYPOINT':
          s.entrypoint = execForm(ins.args, 'ENTRYPOINT');
          break;
        case 'CMD':
          s.cmd = execForm(ins.args, 'CMD');
          break;
        case 'USER':
          s.user = ins.args;
          break;
        case 'EXPOSE':
          s.exposed.push(...ins.args.split(/\s+/));
          break;
        case 'ARG':
        case 'LABEL':
          break;
        default:
          throw new Error(`line ${ins.line}: ${ins.op} is not known to this interpreter; teach it (test/k8s/support/dockerfile.ts)`);
      }
    }
    built.set(stage.name, s);
  }
  return built;
}

/** Every file under `dir`, relative to it (for asserting what an image holds). */
export function listFiles(dir: string, under = ''): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, under), { withFileTypes: true })) {
    const rel = under ? `${under}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}
