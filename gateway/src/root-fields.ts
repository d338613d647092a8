import { fieldsOf, fragmentsOf, isOperation, rolesFor } from '@pdp/shared';
import type { DocumentNode, OperationDefinitionNode, SelectionSetNode } from 'graphql';

/*
 * The operation's root fields, as the gate and the refusals' audit read them: through the shared
 * selection walker (`fieldsOf`), fragments followed; introspection fields (`__typename`…) left out.
 */

/** The operation's root fields, fragments followed: names from the schema, never values. */
export function rootFieldNames(document: DocumentNode, set: SelectionSetNode): string[] {
  return [...new Set(rootFields(document, set).map((field) => field.name.value))];
}

/** Root fields of an operation (or only those named `only`), aliases and fragments included: what a rate limit counts. */
export function rootFieldCount(document: DocumentNode, set: SelectionSetNode, only?: string): number {
  return rootFields(document, set).filter((field) => !only || field.name.value === only).length;
}

function rootFields(document: DocumentNode, set: SelectionSetNode) {
  return fieldsOf(set, fragmentsOf(document)).filter((field) => !field.name.value.startsWith('__'));
}

/**
 * Whether every root field of the operation is open to anyone (its row in the permission table lists
 * PUBLIC: consent texts, `me`…) or introspection: what an account without a grant may still ask.
 */
export function onlyOpenFields(document: DocumentNode, operation: OperationDefinitionNode): boolean {
  const type = operation.operation === 'mutation' ? 'Mutation' : operation.operation === 'subscription' ? 'Subscription' : 'Query';
  // Introspection fields (`__typename`…) are not among the names: always open.
  return rootFieldNames(document, operation.selectionSet).every((name) => {
    const row = `${type}.${name}`;
    return isOperation(row) && rolesFor(row).includes('PUBLIC');
  });
}
