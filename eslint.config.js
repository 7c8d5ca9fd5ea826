import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The layers of src/, lowest first: a layer imports only from layers below it, so they never form a cycle.
const LAYERS = [
  ['api'],
  ['engine'],
  ['observability', 'kube', 'generator'],
  ['controller', 'webhook', 'agent'],
  ['operator', 'client'],
  ['console'],
  ['cli'],
];
// The rooms of src/engine/, lowest first, by the question a reader brings:
// model: the engine's input and output, conditions, names; spec: what a runbook means (graph,
// ${...} substitution, CEL, gates, workflows); stage: one attempt (Job plan, agent report,
// outcome, retry, budget grant, circuit breaker, deadlines); versions: spec changes and revisions;
// run: one reconcile's decision (the run, folding Jobs, scheduling, workflow switches, ending
// policies, status); cache: which stored stage results go. A room may name the types of a room
// above it (types only, never a value).
const ENGINE_ROOMS = [['model'], ['spec'], ['stage'], ['versions', 'run', 'cache']];
const IO_MODULES = [
  'fs',
  'http',
  'https',
  'http2',
  'net',
  'tls',
  'dns',
  'dgram',
  'child_process',
  'os',
  'timers',
];
const PURE = ['api', 'engine', 'generator'];

/** For each directory of `layers`, the imports of the directories above it and beside it. */
function layerPatterns(layers, prefixes, describe, extra = {}) {
  return layers.flatMap((layer, index) =>
    layer.map((dir) => {
      const above = layers.slice(index + 1).flat();
      // Directories beside it in the same layer are independent of each other.
      const beside = layer.filter((other) => other !== dir);
      const patterns = [...above, ...beside].map((other) => ({
        group: prefixes.map((prefix) => `${prefix}${other}/*`),
        message: `${describe(dir)} may not import ${describe(other)} (see the layers in eslint.config.js)`,
        ...extra,
      }));
      return { dir, patterns };
    }),
  );
}

function layerRules() {
  const top = layerPatterns(LAYERS, ['../', '../../'], (dir) => `src/${dir}/`);
  const purity = (dir) => ({
    group: [
      ...IO_MODULES.flatMap((name) => [name, `node:${name}`, `node:${name}/*`]),
      '@kubernetes/*',
      'winston',
      'opossum',
    ],
    message: `src/${dir}/ is pure: no I/O, no clock-driven timers, no Kubernetes client`,
  });
  const rule = (files, patterns) => ({
    files,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns }] },
  });
  const rules = top.map(({ dir, patterns }) =>
    rule([`src/${dir}/**/*.ts`], [...patterns, ...(PURE.includes(dir) ? [purity(dir)] : [])]),
  );
  const engine = top.find(({ dir }) => dir === 'engine').patterns;
  const rooms = layerPatterns(ENGINE_ROOMS, ['../'], (dir) => `src/engine/${dir}/`, {
    allowTypeImports: true,
  });
  // Rooms come after src/engine/ so that their patterns (which repeat the engine's) win.
  return [
    ...rules,
    ...rooms.map(({ dir, patterns }) =>
      rule([`src/engine/${dir}/**/*.ts`], [...engine, purity('engine'), ...patterns]),
    ),
  ];
}

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'coverage/', '.scratch/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', 'test/support/*.cjs'] } },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // client-node models are classes, but the API takes (and its docs use) plain object literals.
      '@typescript-eslint/no-unsafe-class-instance-assignment': 'off',
    },
  },
  ...layerRules(),
  {
    // Paths and keys in runbooks are user-written: `obj[key] = v` with key "__proto__" replaces a
    // prototype, and `key in obj` finds inherited members. json.ts has the safe forms.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: 'AssignmentExpression > MemberExpression.left[computed=true]',
          message:
            'Assign through setOwn (src/api/json.ts) or use a Map: a key "__proto__" would replace the prototype.',
        },
        {
          // A literal on the left is TypeScript's narrowing of our own unions, never a user's key.
          selector: "BinaryExpression[operator='in']:not([left.type='Literal'])",
          message: 'Use Object.hasOwn: `in` also finds inherited members such as constructor.',
        },
      ],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // chai's expect(...).to.be.true style is an expression statement by design.
      '@typescript-eslint/no-unused-expressions': 'off',
    },
  },
);
