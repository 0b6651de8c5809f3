/** What a failed submit means for the money: only a 4xx answer or a provably unsent request says "nothing was bought". */
import { describe, expect, it } from 'vitest';
import { classifySubmitFailure } from '../../src/domain/purchase/purchase-service.ts';
import {
  CircuitOpenError,
  UpstreamAuthError,
  UpstreamBadResponseError,
  UpstreamBusinessError,
  UpstreamNotFoundError,
  UpstreamRateLimitedError,
  UpstreamUnavailableError,
  UpstreamValidationError,
} from '../../src/upstream/index.ts';

const kindOf = (error: unknown) => classifySubmitFailure(error).kind;
const codeOf = (error: unknown) => {
  const failure = classifySubmitFailure(error);
  return 'outcome' in failure && failure.outcome.kind === 'failure' ? failure.outcome.code : undefined;
};

describe('classifySubmitFailure', () => {
  it.each([
    ['a 2xx whose body is not JSON', new UpstreamBadResponseError('submitTopup', 200, 'body is not JSON')],
    [
      'a 2xx whose body lacks required fields',
      new UpstreamBadResponseError('submitTopup', 201, 'data.id: expected an id'),
    ],
    ['a 2xx with a not-found-looking body', new UpstreamNotFoundError('submitTopup', 200)],
    ['a 3xx', new UpstreamBadResponseError('submitTopup', 302, 'unexpected HTTP 302')],
    ['a 5xx', new UpstreamUnavailableError('submitTopup', 502, true, 'HTTP 502')],
    [
      'a headers timeout after sending',
      new UpstreamUnavailableError('submitTopup', null, true, 'UND_ERR_HEADERS_TIMEOUT'),
    ],
    ['the submit deadline (abort)', new DOMException('The operation was aborted due to timeout', 'TimeoutError')],
    ['an error the gateway does not know', new Error('boom')],
  ])('%s → ambiguous (reconcile, never "nothing was bought")', (_name, error) => {
    expect(kindOf(error)).toBe('ambiguous');
  });

  it.each([
    ['the circuit breaker refused the call', new CircuitOpenError('submitTopup')],
    ['the connection was refused', new UpstreamUnavailableError('submitTopup', null, false, 'ECONNREFUSED')],
    [
      'the token request failed (a POST of its own, ambiguous for the token, not for the order)',
      new UpstreamUnavailableError('token', 503, true, 'HTTP 503'),
    ],
    ['the token request was rate-limited', new UpstreamRateLimitedError('token', 429, 30)],
  ])('%s → not sent', (_name, error) => {
    expect(kindOf(error)).toBe('not-sent');
  });

  it('maps the documented 4xx answers to their codes', () => {
    expect(codeOf(new UpstreamBusinessError('submitTopup', 422, 11, 'Insufficient credit'))).toBe('INSUFFICIENT_FUNDS');
    expect(codeOf(new UpstreamBusinessError('submitTopup', 422, 73, 'recycled'))).toBe('SIM_RECYCLED');
    expect(codeOf(new UpstreamValidationError('submitTopup', 422, { package_id: 'invalid topup package' }))).toBe(
      'PACKAGE_NOT_AVAILABLE',
    );
    expect(codeOf(new UpstreamValidationError('submitTopup', 422, { iccid: 'The selected iccid is invalid.' }))).toBe(
      'SIM_NOT_FOUND',
    );
    expect(
      codeOf(
        new UpstreamValidationError('submitTopup', 422, {
          iccid: 'The selected iccid is invalid.',
          package_id: 'invalid topup package',
        }),
      ),
    ).toBe('SIM_NOT_FOUND');
    expect(codeOf(new UpstreamRateLimitedError('submitTopup', 429, 30))).toBe('RATE_LIMITED');
    expect(codeOf(new UpstreamAuthError('submitTopup', 403))).toBe('UPSTREAM_UNAVAILABLE');
    expect(
      kindOf(new UpstreamValidationError('submitTopup', 422, { package_id: 'validation.order_exceed_limit' })),
    ).toBe('refused');
    expect(
      codeOf(new UpstreamValidationError('submitTopup', 422, { package_id: 'validation.order_exceed_limit' })),
    ).toBe('PURCHASE_REFUSED');
  });

  it.each([
    [
      '422 on description',
      new UpstreamValidationError('submitTopup', 422, {
        description: 'The description may not be greater than 255 characters.',
      }),
    ],
    [
      '422 on a known field with another message',
      new UpstreamValidationError('submitTopup', 422, { package_id: 'The package id field is required.' }),
    ],
    [
      '422 on a known and an unknown field',
      new UpstreamValidationError('submitTopup', 422, { package_id: 'invalid topup package', quantity: 'bad' }),
    ],
    ['422 without fields', new UpstreamValidationError('submitTopup', 422, {})],
    ['422 with an undocumented business code', new UpstreamBusinessError('submitTopup', 422, 53, 'unexpected')],
    ['400', new UpstreamValidationError('submitTopup', 400, {})],
    ['409', new UpstreamValidationError('submitTopup', 409, {})],
  ])('%s → PURCHASE_REFUSED after a confirming search, never PACKAGE_NOT_AVAILABLE', (_name, error) => {
    expect(kindOf(error)).toBe('unrecognised-refusal');
    expect(codeOf(error)).toBe('PURCHASE_REFUSED');
  });
});
