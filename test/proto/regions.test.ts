/**
 * Country and region codes (proto/regions.ts): lists and comma-separated
 * strings, groups expanded, and an error naming every unknown code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { allCountries, parseRegions, regionGroups } from '../../proto/regions.js';
import { plateFormats } from '../../proto/plate-syntax.js';

describe('parseRegions', () => {
  it('takes a list or a comma-separated string, keeps the order, drops repeats', () => {
    assert.deepEqual(parseRegions(['CN']), ['CN']);
    assert.deepEqual(parseRegions('US, BR,US'), ['US', 'BR']);
    assert.deepEqual(parseRegions('BR,AR'), ['BR', 'AR']);
  });

  it('expands groups: EU, EUROPE, LATAM, UK', () => {
    assert.deepEqual(parseRegions('LATAM'), ['BR', 'AR', 'MX', 'CL', 'CO', 'PE']);
    assert.equal(parseRegions('EU').length, 27);
    assert.ok(!parseRegions('EU').includes('GB'));
    assert.ok(parseRegions('EUROPE').includes('NO'));
    assert.deepEqual(parseRegions('UK'), ['GB']);
    assert.deepEqual(parseRegions('BR,LATAM'), ['BR', 'AR', 'MX', 'CL', 'CO', 'PE']);
  });

  it('names every entry that is neither a country nor a group', () => {
    assert.throws(() => parseRegions(['CN', 'cn']), /"cn" is not a known region \(countries CN, US, BR/);
    assert.throws(() => parseRegions('XX,BR,YY'), /"XX", "YY" are not a known region/);
    assert.throws(() => parseRegions('US,'), /"" is not a known region/);
    assert.throws(() => parseRegions([]), /expected a list of regions/);
    assert.throws(() => parseRegions(42), /expected a list of regions/);
    assert.throws(() => parseRegions([7]), /7 is not a known region/);
  });

  it('every group names known countries, and every country has a format', () => {
    for (const members of Object.values(regionGroups)) for (const c of members) assert.ok(allCountries.includes(c));
    for (const c of allCountries)
      assert.ok(
        plateFormats.some((f) => f.countries.includes(c)),
        c,
      );
  });

  it('property: any non-empty list of countries parses to its distinct countries in order', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...allCountries), { minLength: 1, maxLength: 8 }), (list) => {
        assert.deepEqual(parseRegions(list), [...new Set(list)]);
        assert.deepEqual(parseRegions(list.join(',')), [...new Set(list)]);
      }),
    );
  });
});
