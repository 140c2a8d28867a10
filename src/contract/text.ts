// Pure text helpers shared by the workflow (deterministic code may import this) and the edges.

/** `text` on one line (runs of white space folded), cut to `max` characters with an ellipsis. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
