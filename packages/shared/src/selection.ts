import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type FieldNode,
  type FragmentSpreadNode,
  type GraphQLResolveInfo,
  type InlineFragmentNode,
  type SelectionSetNode,
} from 'graphql';

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

/**
 * Every field the query selects below the resolver's field, as dot-joined paths of field names
 * (`appeal`, `appeal.reference`, `appeal.subject.id`), through inline and named fragments, leaving out
 * what `@skip`/`@include` leave out. In a subgraph a field another subgraph resolves shows up as the
 * entity reference the gateway asks for (`appeal.subject.__typename`, `appeal.subject.id`).
 */
export function selectedPaths(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments' | 'variableValues'>): Set<string> {
  const paths = new Set<string>();
  const included = (node: FieldNode | InlineFragmentNode | FragmentSpreadNode) =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
  const walk = (set: SelectionSetNode | undefined, prefix: string, seen: Set<string>): void => {
    for (const sel of set?.selections ?? []) {
      if (!included(sel)) continue;
      if (sel.kind === Kind.FIELD) {
        const path = prefix ? `${prefix}.${sel.name.value}` : sel.name.value;
        paths.add(path);
        walk(sel.selectionSet, path, new Set());
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        walk(sel.selectionSet, prefix, seen);
      } else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        walk(info.fragments[sel.name.value]?.selectionSet, prefix, seen);
      }
    }
  };
  for (const node of info.fieldNodes) walk(node.selectionSet, '', new Set());
  return paths;
}
