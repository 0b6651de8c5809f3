/**
 * Request-parse errors without details: Yoga's JSON body parser puts the JSON parser's own message (which quotes the
 * body) into the error's `extensions.originalError`, masked or not, in every environment. This plugin answers with
 * the message and code only, and with 400 whatever the client accepts (GraphQL over HTTP).
 */
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';

export function useParseErrorsWithoutDetails(): Plugin {
  return {
    onRequestParse({ requestParser, setRequestParser }) {
      if (!requestParser) return;
      setRequestParser(async (request) => {
        try {
          return await requestParser(request);
        } catch (error) {
          if (error instanceof GraphQLError && error.extensions.originalError !== undefined) {
            // Without `originalError`, Yoga would answer an `http.spec` error with 200 to `accept: application/json`;
            // a body that is not JSON is a 400 whatever the client accepts.
            throw new GraphQLError(error.message, {
              extensions: { code: error.extensions.code, http: { status: 400 } },
            });
          }
          throw error;
        }
      });
    },
  };
}
