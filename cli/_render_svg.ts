// Graphviz in WebAssembly (@viz-js/viz): DOT to SVG without a system binary.

/** Renders DOT source as an SVG document. */
export async function renderSvg(dot: string): Promise<string> {
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  return viz.renderString(dot, { format: "svg" });
}
