import {
  getDirectiveValues,
  GraphQLIncludeDirective,
  GraphQLSkipDirective,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLResolveInfo,
  type SelectionNode,
  type SelectionSetNode,
} from 'graphql';

export type Fragments = Readonly<Record<string, FragmentDefinitionNode | undefined>>;

/** The named fragments of a document, by name, as `GraphQLResolveInfo.fragments` has them. */
export function fragmentsOf(document: DocumentNode): Fragments {
  const fragments: Record<string, FragmentDefinitionNode> = {};
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments[d.name.value] = d;
  return fragments;
}

/**
 * The one selection walker: the fields a selection set selects at its own level, in the order
 * written, with inline fragments and named fragments flattened in (each named fragment once: a
 * fragment spread twice adds its fields once), and, given `included`, without the selections it
 * leaves out (`@skip`/`@include`, see `selectedPaths`). The fields' own selections are the caller's
 * to walk. Aliases and repeats are kept: a rate limit counts each.
 */
export function fieldsOf(set: SelectionSetNode | undefined, fragments: Fragments, included?: (node: SelectionNode) => boolean): FieldNode[] {
  const fields: FieldNode[] = [];
  const seen = new Set<string>();
  const walk = (s: SelectionSetNode | undefined): void => {
    for (const sel of s?.selections ?? []) {
      if (included && !included(sel)) continue;
      if (sel.kind === Kind.FIELD) fields.push(sel);
      else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet);
      else if (!seen.has(sel.name.value)) {
        seen.add(sel.name.value);
        walk(fragments[sel.name.value]?.selectionSet);
      }
    }
  };
  walk(set);
  return fields;
}

/**
 * Whether the query selects the field at `path` below the resolver's field (e.g. `['totalCount']`,
 * or `['edges', 'node', 'contact']`), through inline fragments and named fragments alike: a
 * resolver that decides what to compute, or what to record as read, from the selection must see
 * what a client wrote inside a fragment too.
 */
export function selects(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>, path: readonly string[]): boolean {
  let level: readonly FieldNode[] = info.fieldNodes;
  for (const name of path) {
    level = level.flatMap((node) => fieldsOf(node.selectionSet, info.fragments).filter((field) => field.name.value === name));
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
  const included = (node: SelectionNode) =>
    getDirectiveValues(GraphQLSkipDirective, node, info.variableValues)?.if !== true &&
    getDirectiveValues(GraphQLIncludeDirective, node, info.variableValues)?.if !== false;
  const walk = (set: SelectionSetNode | undefined, prefix: string): void => {
    for (const field of fieldsOf(set, info.fragments, included)) {
      const path = prefix ? `${prefix}.${field.name.value}` : field.name.value;
      paths.add(path);
      walk(field.selectionSet, path);
    }
  };
  for (const node of info.fieldNodes) walk(node.selectionSet, '');
  return paths;
}
