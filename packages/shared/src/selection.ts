import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from 'graphql';

/**
 * Whether the query selects the field at `path` below the resolver's field (e.g. `['totalCount']`,
 * or `['edges', 'node', 'contact']`), through inline fragments and named fragments alike: a
 * resolver that decides what to compute, or what to record as read, from the selection must see
 * what a client wrote inside a fragment too.
 */
export function selects(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[]): boolean {
  const fieldsNamed = (set: SelectionSetNode | undefined, name: string, seen: Set<string>): FieldNode[] =>
    (set?.selections ?? []).flatMap((sel) => {
      if (sel.kind === Kind.FIELD) return sel.name.value === name ? [sel] : [];
      if (sel.kind === Kind.INLINE_FRAGMENT) return fieldsNamed(sel.selectionSet, name, seen);
      if (seen.has(sel.name.value)) return [];
      seen.add(sel.name.value);
      return fieldsNamed(info.fragments[sel.name.value]?.selectionSet, name, seen);
    });
  let level: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    level = level.flatMap((node) => fieldsNamed(node.selectionSet, name, new Set()));
    if (level.length === 0) return false;
  }
  return true;
}
