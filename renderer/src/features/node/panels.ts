/**
 * Per-node panels kept by connection id, for the node and logs stores: made
 * on first use, dropped when the node goes. `panels` is the store's $state
 * record, so the write below is seen by whoever reads it.
 */
export function panelOf<P>(panels: Record<string, P>, connectionId: string, make: (connectionId: string) => P): P {
  let p = panels[connectionId];
  if (!p) {
    p = make(connectionId);
    panels[connectionId] = p;
  }
  return p;
}

/** A copy of `panels` without `connectionId`'s panel (a new object, so readers of the record update). */
export function withoutPanel<P>(panels: Record<string, P>, connectionId: string): Record<string, P> {
  const { [connectionId]: _gone, ...rest } = panels;
  return rest;
}
