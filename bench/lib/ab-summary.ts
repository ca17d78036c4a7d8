// The figures of a paired A/B of gateway builds (bench/ab.ts). A process's figure is the median over rounds
// of its requests per CPU-second divided by the floor's in the same round (a round's slow spell falls on
// both). Processes of one build differ by up to ~10% on this VM (README "Figures"), so a build is summed up
// over its processes, and builds are compared process against process: how many of the P x P pairs the later
// build wins (a rank count, as in the Mann-Whitney U test) says more than one mean.
import { median } from './median.ts';

export interface ProcessRounds {
  build: string;
  /** Requests per CPU-second of this process, one per round. */
  perCpu: number[];
}

export interface ProcessFigure {
  build: string;
  /** Median over rounds of this process / floor, same round. */
  ofFloor: number;
  perRound: number[];
}

export interface BuildFigure {
  build: string;
  processes: number;
  /** Mean and range of its processes' `ofFloor`. */
  meanOfFloor: number;
  minOfFloor: number;
  maxOfFloor: number;
}

export interface Comparison {
  build: string;
  /** This build's mean over the first build's. */
  ratio: number;
  /** Process pairs (this build's, the first build's) this build won, of `pairs`. */
  wins: number;
  pairs: number;
}

export interface AbSummary {
  processes: ProcessFigure[];
  builds: BuildFigure[];
  /** Every build after the first, against the first. */
  comparisons: Comparison[];
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

export function summarizeAb(floorPerCpu: number[], runs: ProcessRounds[]): AbSummary {
  const processes = runs.map((p): ProcessFigure => {
    if (p.perCpu.length !== floorPerCpu.length) throw new Error(`${p.build}: ${p.perCpu.length} rounds, the floor ${floorPerCpu.length}`);
    const perRound = p.perCpu.map((x, i) => x / (floorPerCpu[i] as number));
    return { build: p.build, ofFloor: r3(median(perRound)), perRound: perRound.map(r3) };
  });
  const order = [...new Set(runs.map((p) => p.build))];
  const of = (build: string) => processes.filter((p) => p.build === build).map((p) => p.ofFloor);
  const builds = order.map((build): BuildFigure => {
    const xs = of(build);
    return { build, processes: xs.length, meanOfFloor: r3(xs.reduce((a, x) => a + x, 0) / xs.length), minOfFloor: Math.min(...xs), maxOfFloor: Math.max(...xs) };
  });
  const first = builds[0];
  const comparisons = builds.slice(1).map((b): Comparison => {
    const mine = of(b.build);
    const theirs = of(first?.build ?? '');
    let wins = 0;
    for (const x of mine) for (const y of theirs) wins += x > y ? 1 : x === y ? 0.5 : 0;
    return { build: b.build, ratio: r3(b.meanOfFloor / (first?.meanOfFloor ?? Number.NaN)), wins, pairs: mine.length * theirs.length };
  });
  return { processes, builds, comparisons };
}

/**
 * The order processes start in: build after build, each round of starts rotated by one, so that no build
 * always starts first (the first processes started have run slowest in several runs; README "Figures").
 */
export function startOrder(builds: readonly string[], perBuild: number): string[] {
  const out: string[] = [];
  for (let p = 0; p < perBuild; p++) for (let i = 0; i < builds.length; i++) out.push(builds[(i + p) % builds.length] as string);
  return out;
}
