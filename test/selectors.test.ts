import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StatusError } from '../api/errors.ts';
import { checkSupportedFields, matchLabelSelector, parseFieldSelector, parseLabelSelector } from '../api/selectors/index.ts';

function badRequestMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof StatusError);
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    return err.message;
  }
  throw new Error('expected a 400');
}

describe('label selectors', () => {
  const labels = { app: 'web', tier: 'frontend', env: 'prod' };

  test('all operators', () => {
    const cases: [string, boolean][] = [
      ['', true], ['app=web', true], ['app==web', true], ['app!=web', false], ['app!=db', true],
      ['missing!=x', true], ['app in (web, db)', true], ['app notin (web,db)', false], ['missing notin (a)', true],
      ['app', true], ['!app', false], ['!missing', true], ['app=web,tier=frontend', true], ['app=web,tier=backend', false],
      ['env in (prod),!canary,tier', true], ['app in (in, notin)', false], ['app=', false],
    ];
    for (const [selector, expected] of cases) {
      assert.equal(parseLabelSelector(selector).matches(labels), expected, selector);
    }
    assert.equal(parseLabelSelector('version=').matches({ version: '' }), true);
    assert.equal(parseLabelSelector('x in (,a)').matches({ x: '' }), true);
  });

  test('canonical string form', () => {
    assert.equal(parseLabelSelector('tier in (b,a), app=web,!x').toString(), 'app=web,tier in (a,b),!x');
  });

  test('parse errors are 400 with kube wording', () => {
    assert.equal(badRequestMessage(() => parseLabelSelector('a b')), "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt");
    assert.equal(badRequestMessage(() => parseLabelSelector('a in b')), "unable to parse requirement: found 'b' expected: '('");
    assert.equal(badRequestMessage(() => parseLabelSelector('a in (b')), "unable to parse requirement: found '', expected: ',' or ')'");
    assert.equal(badRequestMessage(() => parseLabelSelector('a=b,')), "found '', expected: identifier after ','");
    assert.equal(badRequestMessage(() => parseLabelSelector('=b')), "found '=', expected: !, identifier, or 'end of string'");
    assert.equal(badRequestMessage(() => parseLabelSelector('a=b=c')), "found '=', expected: ',' or 'end of string'");
    assert.equal(badRequestMessage(() => parseLabelSelector('a$=b')),
      "unable to parse requirement: <nil>: Invalid value: \"a$\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
    assert.equal(badRequestMessage(() => parseLabelSelector('a=b$')),
      "unable to parse requirement: values[0][a]: Invalid value: \"b$\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue', or 'my_value', or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')");
  });

  test('structured selectors', () => {
    const labels = { app: 'web', tier: 'frontend' };
    assert.equal(matchLabelSelector({}, labels), true);
    assert.equal(matchLabelSelector(undefined, labels), false);
    assert.equal(matchLabelSelector({ matchLabels: { app: 'web' } }, labels), true);
    assert.equal(matchLabelSelector({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['backend'] }] }, labels), false);
    assert.equal(matchLabelSelector({ matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['backend'] }, { key: 'app', operator: 'Exists' }, { key: 'x', operator: 'DoesNotExist' }] }, labels), true);
  });
});

describe('field selectors', () => {
  const fields = { 'metadata.name': 'web', 'spec.nodeName': 'node01', 'status.phase': 'Running', 'involvedObject.namespace': '' };

  test('=, ==, != and empty values, terms in any order', () => {
    assert.equal(parseFieldSelector('metadata.name=web').matches(fields), true);
    assert.equal(parseFieldSelector('metadata.name==web,spec.nodeName=node01').matches(fields), true);
    assert.equal(parseFieldSelector('status.phase!=Succeeded,status.phase!=Failed,spec.nodeName=node01').matches(fields), true);
    assert.equal(parseFieldSelector('status.phase!=Running').matches(fields), false);
    assert.equal(parseFieldSelector('involvedObject.namespace=').matches(fields), true);
    assert.equal(parseFieldSelector('spec.other=').matches(fields), true);
    assert.equal(parseFieldSelector('spec.nodeName=').matches(fields), false);
    assert.equal(parseFieldSelector('').matches(fields), true);
    const a = parseFieldSelector('spec.nodeName=node01,metadata.name=web');
    assert.equal(a.toString(), parseFieldSelector('metadata.name=web,spec.nodeName=node01').toString());
  });

  test('index hints and escaping', () => {
    const selector = parseFieldSelector('spec.nodeName=node01,status.phase!=Failed');
    assert.equal(selector.requiredValue('spec.nodeName'), 'node01');
    assert.equal(selector.requiredValue('status.phase'), undefined);
    assert.equal(parseFieldSelector('metadata.name=a\\,b').requiredValue('metadata.name'), 'a,b');
    assert.equal(parseFieldSelector('metadata.name=a\\,b').toString(), 'metadata.name=a\\,b');
  });

  test('errors', () => {
    assert.equal(badRequestMessage(() => parseFieldSelector('metadata.name')), "invalid selector: 'metadata.name'; can't understand 'metadata.name'");
    assert.equal(badRequestMessage(() => parseFieldSelector('a=b=c')), 'invalid field selector: unescaped character in value: 61');
    assert.equal(badRequestMessage(() => parseFieldSelector('a=b\\x')), 'invalid field selector: invalid escape sequence: \\x');
    assert.equal(badRequestMessage(() => checkSupportedFields(parseFieldSelector('spec.foo=bar'), ['metadata.name'])), 'field label not supported: spec.foo');
    checkSupportedFields(parseFieldSelector('metadata.name=x'), ['metadata.name']);
  });
});
