/**
 * The house's arrows, checked by `npm run lint` (dependency-cruiser):
 * the gate unit and the cloud never import each other; what both need is
 * the wire contract (`proto/`) or the shared clock (`time/`), which import
 * neither; the product imports no benchmark and no test. The one door from
 * the product into `bench/` is the `platepay bench` command that runs them.
 */
const PRODUCT = '^(edge|cloud|proto|time|scenes|demo|training|cli)/';

/* global module */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'modules import each other in a circle; break it by moving what both need into a module of its own',
      from: {},
      to: { circular: true },
    },
    {
      name: 'edge-not-cloud',
      severity: 'error',
      comment: 'the gate unit must not depend on the cloud: share through proto/ or time/',
      from: { path: '^edge/' },
      to: { path: '^cloud/' },
    },
    {
      name: 'cloud-not-edge',
      severity: 'error',
      comment: 'the cloud must not depend on the gate unit: share through proto/ or time/',
      from: { path: '^cloud/' },
      to: { path: '^edge/' },
    },
    {
      name: 'proto-stands-alone',
      severity: 'error',
      comment: 'the edge<->cloud contract imports neither side (nor anything built on them)',
      from: { path: '^proto/' },
      to: { path: '^(edge|cloud|cli|demo|scenes|bench|test)/' },
    },
    {
      name: 'time-stands-alone',
      severity: 'error',
      comment: 'the shared clock imports nothing of the project',
      from: { path: '^time/' },
      to: { path: '^(edge|cloud|proto|cli|demo|scenes|bench|test)/' },
    },
    {
      name: 'scenes-stand-alone',
      severity: 'error',
      comment: 'the scene renderer draws pictures; it knows nothing of the gate unit, the cloud or the demo',
      from: { path: '^scenes/' },
      to: { path: '^(edge|cloud|proto|cli|demo|bench|test)/' },
    },
    {
      name: 'runtime-not-training',
      severity: 'error',
      comment: 'the gate unit and the cloud run the trained head; they never import the training code',
      from: { path: '^(edge|cloud|proto|time)/' },
      to: { path: '^training/' },
    },
    {
      name: 'product-not-bench',
      severity: 'error',
      comment:
        'bench/ holds benchmarks only; the product does not import them (except the bench command that runs them)',
      from: { path: PRODUCT, pathNot: '^cli/bench-command\\.ts$' },
      to: { path: '^bench/' },
    },
    {
      name: 'product-not-test',
      severity: 'error',
      comment: 'nothing in the product or the benchmarks imports the tests',
      from: { path: '^(edge|cloud|proto|time|scenes|demo|training|cli|bench)/' },
      to: { path: '^test/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
