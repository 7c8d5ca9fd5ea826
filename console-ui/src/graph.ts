/** The stage graph, laid out by dagre and drawn as SVG; each stage is a button that selects it. */
import dagre from '@dagrejs/dagre';
import { html } from 'htm/preact';
import { useMemo } from 'preact/hooks';
import { clip } from './format.js';

export interface RunGraph {
  nodes: { name: string; workflow: string; agent: string }[];
  edges: { from: string; to: string; kind: 'needs' | 'after' }[];
}

const WIDTH = 170;
const HEIGHT = 48;

interface Placed {
  nodes: { name: string; workflow: string; x: number; y: number }[];
  edges: { from: string; to: string; kind: string; points: { x: number; y: number }[] }[];
  width: number;
  height: number;
}

function place(graph: RunGraph): Placed {
  const layout = new dagre.graphlib.Graph<
    {
      width?: number;
      height?: number;
      rankdir?: string;
      nodesep?: number;
      ranksep?: number;
      marginx?: number;
      marginy?: number;
    },
    { width: number; height: number; x: number; y: number },
    { kind?: string; points?: { x: number; y: number }[] }
  >();
  layout.setGraph({ rankdir: 'LR', nodesep: 18, ranksep: 46, marginx: 8, marginy: 8 });
  layout.setDefaultEdgeLabel(() => ({}));
  for (const node of graph.nodes) layout.setNode(node.name, { width: WIDTH, height: HEIGHT, x: 0, y: 0 });
  for (const edge of graph.edges)
    if (layout.hasNode(edge.from) && layout.hasNode(edge.to))
      layout.setEdge(edge.from, edge.to, { kind: edge.kind });
  dagre.layout(layout);
  const size = layout.graph();
  return {
    nodes: graph.nodes.map((node) => {
      const at = layout.node(node.name);
      return { name: node.name, workflow: node.workflow, x: at.x, y: at.y };
    }),
    edges: layout.edges().map((edge) => {
      const label = layout.edge(edge);
      return { from: edge.v, to: edge.w, kind: label.kind ?? 'needs', points: label.points ?? [] };
    }),
    width: size.width ?? 0,
    height: size.height ?? 0,
  };
}

export function StageGraph({
  graph,
  phases,
  selected,
  onSelect,
}: {
  graph: RunGraph;
  phases: Map<string, string>;
  selected: string | undefined;
  onSelect: (stage: string) => void;
}) {
  const placed = useMemo(() => place(graph), [JSON.stringify(graph)]);
  const keyed = (name: string) => (event: KeyboardEvent) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      onSelect(name);
    }
  };
  return html`
    <div class="graph-wrap">
      <svg
        class="graph"
        viewBox=${`0 0 ${placed.width} ${placed.height}`}
        width=${placed.width}
        height=${placed.height}
        role="group"
        aria-label="Stage graph"
      >
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto-start-reverse"
          >
            <path d="M 0 0 L 10 5 L 0 10 z" class="arrow" />
          </marker>
        </defs>
        ${placed.edges.map(
          (edge) =>
            html`<polyline
              key=${`${edge.from}->${edge.to}`}
              class=${`edge edge-${edge.kind}`}
              points=${edge.points.map((point) => `${point.x},${point.y}`).join(' ')}
              marker-end="url(#arrow)"
            />`,
        )}
        ${placed.nodes.map((node) => {
          const phase = phases.get(node.name) ?? 'Pending';
          return html`<g
            key=${node.name}
            class=${`node phase-${phase} workflow-${node.workflow}${selected === node.name ? ' selected' : ''}`}
            transform=${`translate(${node.x - WIDTH / 2},${node.y - HEIGHT / 2})`}
            role="button"
            tabindex="0"
            data-stage=${node.name}
            data-phase=${phase}
            aria-label=${`Stage ${node.name}, ${phase}${node.workflow === 'main' ? '' : `, ${node.workflow} workflow`}`}
            aria-pressed=${selected === node.name}
            onClick=${() => {
              onSelect(node.name);
            }}
            onKeyDown=${keyed(node.name)}
          >
            <rect width=${WIDTH} height=${HEIGHT} rx="6" />
            <text x="10" y="19" class="node-name">${clip(node.name, 22)}</text>
            <text x="10" y="37" class="node-phase"
              >${phase}${node.workflow === 'main' ? '' : ` · ${node.workflow}`}</text
            >
          </g>`;
        })}
      </svg>
    </div>
  `;
}
