/** Assembles the schema: imports every domain file for its side effects, then builds (sorted SDL). */
import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder.ts';
import './money.ts';
import './sim.ts';
import './usage.ts';
import './topup.ts';
import './history.ts';
import './balance.ts';
import './alerts.ts';
import './notifications.ts';

export const schema = lexicographicSortSchema(builder.toSchema());
