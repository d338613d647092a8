import {
  getNamedType,
  isCompositeType,
  Kind,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValueNode,
} from 'graphql';

/**
 * The cost of one request, in GraphQL Armor's model (an object 2, a scalar 1, each level deeper
 * weighing 1.5 times more), with every page multiplied by its size — whether the size is a literal or
 * a variable (Armor's rule reads literals only, so `first: $n` with n = 1000 cost what `first: 1`
 * does), and the largest default page when the argument is left out. Computed per request, after the
 * variables are coerced, since the same query text costs what its variables make it.
 */
const OBJECT_COST = 2;
const SCALAR_COST = 1;
const DEPTH_FACTOR = 1.5;
/** Arguments that size a page. */
const PAGE_ARGUMENTS = ['first', 'last', 'limit'];
/** A page whose size is not given: the largest default page of the API (auditEntries). */
export const DEFAULT_PAGE_COST = 100;
/** The largest page a subgraph serves (`guardArguments`): a larger size is its BAD_USER_INPUT, naming the argument. */
const MAX_PAGE_COST = 1000;

export function requestCost(schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const root =
    operation.operation === 'mutation'
      ? schema.getMutationType()
      : operation.operation === 'subscription'
        ? schema.getSubscriptionType()
        : schema.getQueryType();
  if (!root) return 0;
  // A variable left out takes its default (`$n: Int = 1000`), as the subgraph will.
  const values: Record<string, unknown> = { ...variables };
  for (const def of operation.variableDefinitions ?? []) {
    if (!Object.hasOwn(values, def.variable.name.value) && def.defaultValue) values[def.variable.name.value] = intOf(def.defaultValue, {});
  }
  const pageSize = (node: FieldNode, pages: boolean): number => {
    const arg = node.arguments?.find((a) => PAGE_ARGUMENTS.includes(a.name.value));
    if (!arg) return pages ? DEFAULT_PAGE_COST : 1;
    const n = intOf(arg.value, values);
    return n === null ? DEFAULT_PAGE_COST : Math.min(MAX_PAGE_COST, Math.max(1, n));
  };

  // A named fragment's cost is computed once per level factor however often it is spread: a chain of
  // fragments each spread twice would otherwise be walked 2^n times (fragment cycles are refused by
  // validation before this runs; the 0 set first stops one all the same).
  const fragmentCosts = new Map<string, number>();

  /** The fields of a selection set, fragments flattened in. */
  const selectionCost = (set: SelectionSetNode, parent: GraphQLCompositeType, factor: number): number => {
    let cost = 0;
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        if (!sel.name.value.startsWith('__')) cost += factor * fieldCost(sel, parent);
        continue;
      }
      const fragment = sel.kind === Kind.INLINE_FRAGMENT ? sel : fragments.get(sel.name.value);
      if (!fragment) continue;
      const condition = fragment.typeCondition ? schema.getType(fragment.typeCondition.name.value) : parent;
      const inner = () => selectionCost(fragment.selectionSet, isCompositeType(condition) ? condition : parent, factor);
      if (sel.kind === Kind.INLINE_FRAGMENT) {
        cost += inner();
        continue;
      }
      const key = `${sel.name.value}:${factor}`;
      if (!fragmentCosts.has(key)) {
        fragmentCosts.set(key, 0);
        fragmentCosts.set(key, inner());
      }
      cost += fragmentCosts.get(key)!;
    }
    return cost;
  };

  const fieldCost = (node: FieldNode, parent: GraphQLCompositeType): number => {
    if (!node.selectionSet) return SCALAR_COST;
    const def = 'getFields' in parent ? parent.getFields()[node.name.value] : undefined;
    const type = def ? getNamedType(def.type) : null;
    if (!def || !isCompositeType(type)) return OBJECT_COST;
    const pages = def.args.some((a) => PAGE_ARGUMENTS.includes(a.name));
    return (OBJECT_COST + selectionCost(node.selectionSet, type, DEPTH_FACTOR)) * pageSize(node, pages);
  };

  return selectionCost(operation.selectionSet, root, 1);
}

function intOf(value: ValueNode, variables: Record<string, unknown>): number | null {
  if (value.kind === Kind.INT) return Number.parseInt(value.value, 10);
  if (value.kind === Kind.VARIABLE) {
    const v = variables[value.name.value];
    return typeof v === 'number' && Number.isFinite(v) ? Math.trunc(v) : null;
  }
  return null;
}
