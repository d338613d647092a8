import type { MessageKey } from '@pdp/shared';
import {
  coerceInputValue,
  GraphQLError,
  isInputType,
  isNonNullType,
  typeFromAST,
  ValuesOfCorrectTypeRule,
  visitInParallel,
  type ASTVisitor,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type ValidationRule,
} from 'graphql';
import type { Refusal } from './refusals';

const IDENTIFIER = /^[_A-Za-z][_0-9A-Za-z]{0,63}$/;

/**
 * Coerces each variable as graphql-js would, but words every problem itself: the field and what is
 * wrong with it, never the value (graphql-js prints the whole variable value in its message).
 */
export function coerceVariables(schema: GraphQLSchema, operation: OperationDefinitionNode, values: Record<string, unknown>): Refusal[] {
  const refusals = new Map<string, Refusal>();
  const add = (field: string, key: MessageKey) => {
    if (!refusals.has(field)) refusals.set(field, { code: 'BAD_USER_INPUT', key, field });
  };
  for (const def of operation.variableDefinitions ?? []) {
    const name = def.variable.name.value;
    const type = typeFromAST(schema, def.type as never);
    if (!type || !isInputType(type)) continue; // already refused by validation
    if (!Object.hasOwn(values, name)) {
      if (isNonNullType(type) && !def.defaultValue) add(name, 'input.missing');
      continue;
    }
    coerceInputValue(values[name], type, (path, _invalid, error) => {
      const named = /^Field "([^"]+)" (is not defined by type|of required type)/.exec(error.message);
      const lastKey = [...path].reverse().find((p): p is string => typeof p === 'string');
      if (named && IDENTIFIER.test(named[1]!)) {
        add(named[1]!, named[2] === 'is not defined by type' ? 'input.unknownField' : 'input.missing');
      } else {
        add(lastKey ?? name, 'input.wrongType');
      }
    });
  }
  return [...refusals.values()];
}

/**
 * graphql-js's ValuesOfCorrectTypeRule, with each report re-worded: the argument or input field it
 * concerns and the kind of problem, instead of a message that prints the literal value.
 */
export const safeValuesRule: ValidationRule = (context) => {
  const names: string[] = [];
  const proxy = new Proxy(context, {
    get(target, prop) {
      if (prop === 'reportError') {
        return (error: GraphQLError) => {
          // A literal's missing field is named with its type ("SubmitAppealInput.email"): the field is what follows the dot, as for a variable.
          const named = /^Field "([^"]+)" (is not defined by type|of required type)/.exec(error.message);
          const unknown = named?.[2] === 'is not defined by type';
          const missing = named && !unknown ? named[1]!.split('.').at(-1) : undefined;
          const missingName = missing && IDENTIFIER.test(missing) ? missing : undefined;
          const field = unknown && named?.[1] && IDENTIFIER.test(named[1]) ? named[1] : (missingName ?? names.at(-1) ?? 'input');
          const key: MessageKey = unknown ? 'input.unknownField' : missingName ? 'input.missing' : 'input.wrongType';
          target.reportError(new GraphQLError(key, { nodes: error.nodes, extensions: { code: 'BAD_USER_INPUT', messageKey: key, field } }));
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const tracker: ASTVisitor = {
    // A variable's default value is reported under the variable's name.
    VariableDefinition: { enter: (node) => void names.push(node.variable.name.value), leave: () => void names.pop() },
    Argument: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
    ObjectField: { enter: (node) => void names.push(node.name.value), leave: () => void names.pop() },
  };
  return visitInParallel([tracker, ValuesOfCorrectTypeRule(proxy)]);
};
