/** Assembles the schema: imports every domain file for its side effects, then builds (sorted SDL). */
import { GraphQLDeferDirective, GraphQLStreamDirective } from '@graphql-tools/utils';
import { lexicographicSortSchema, specifiedDirectives } from 'graphql';
import { builder } from './builder.ts';
import './money.ts';
import './sim.ts';
import './usage.ts';
import './topup.ts';
import './history.ts';
import './balance.ts';
import './alerts.ts';
import './notifications.ts';

/**
 * `@defer` and `@stream` are part of the schema itself (the definitions Yoga's executor reads), not added by the
 * defer-stream plugin at start: the printed SDL, codegen and persisted-document validation then know them too
 * (README "Using @defer and retryAfterSeconds from a frontend").
 */
export const schema = lexicographicSortSchema(
  builder.toSchema({ directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective] }),
);
