import { describe, expect, it } from 'vitest';
import { loadDefinitions } from '../../../src/fhir/definitions.js';
import { type ResolvedPath, resolvePath } from '../../../src/mapping/fhir-path.js';
import {
  CONSTANT,
  createLayout,
  DATA,
  type LayoutPart,
  MARKER,
  type PartKind,
} from '../../../src/mapping/resource-layout.js';

const defs = loadDefinitions();

/** A build that wrote no element: the resource's type and id alone. */
const NOTHING = { resourceType: 'Patient', id: '1' };

function path(type: string, p: string, target: 'leaf' | 'rows' = 'leaf'): ResolvedPath {
  const resolved = resolvePath(defs, type, p, target);
  if ('problem' in resolved) {
    throw new Error(resolved.problem);
  }
  return resolved;
}

function part(p: string, kind: PartKind = 'value', type = 'Patient'): LayoutPart {
  return { path: path(type, p, kind === 'items' ? 'rows' : 'leaf'), kind };
}

/** Builds a Patient from `[state, value]` per part (`undefined`: the part was not applied). */
function build(
  parts: readonly LayoutPart[],
  written: readonly ([number, unknown] | undefined)[],
  elements?: ReadonlySet<string>,
) {
  const layout = createLayout(parts);
  const frame = layout.frame();
  written.forEach((w, slot) => {
    if (w !== undefined) {
      frame.set(slot, w[0], w[1]);
    }
  });
  return layout.resource(frame, 'Patient', '1', elements);
}

describe('resource layout', () => {
  it('writes resourceType and id first, then elements in the order their sources are listed', () => {
    const parts = [part('gender'), part('name[0].family'), part('birthDate'), part('name[0].use')];
    const out = build(parts, [
      [DATA, 'female'],
      [DATA, 'Rojas'],
      [DATA, '1980-01-02'],
      [CONSTANT, 'official'],
    ]);
    expect(JSON.stringify(out)).toBe(
      '{"resourceType":"Patient","id":"1","gender":"female","name":[{"family":"Rojas","use":"official"}],"birthDate":"1980-01-02"}',
    );
  });

  it('drops an object that expected data and got none, constants and all', () => {
    const parts = [part('identifier[0].system'), part('identifier[0].value')];
    expect(
      build(parts, [
        [CONSTANT, 'urn:x'],
        [DATA, undefined],
      ]),
    ).toEqual(NOTHING);
    expect(
      build(parts, [
        [CONSTANT, 'urn:x'],
        [DATA, '12'],
      ]),
    ).toEqual({
      resourceType: 'Patient',
      id: '1',
      identifier: [{ system: 'urn:x', value: '12' }],
    });
  });

  it('keeps an object fed by constants alone', () => {
    const parts = [part('communication[0].language.text'), part('gender')];
    expect(
      build(parts, [
        [CONSTANT, 'es'],
        [DATA, undefined],
      ]),
    ).toEqual({
      resourceType: 'Patient',
      id: '1',
      communication: [{ language: { text: 'es' } }],
    });
  });

  it('marks every object on the way: a deeper empty value drops the constants above it', () => {
    const parts = [part('contact[0].gender'), part('contact[0].name.family')];
    expect(
      build(parts, [
        [CONSTANT, 'male'],
        [DATA, undefined],
      ]),
    ).toEqual(NOTHING);
  });

  it('closes holes: a fixed name[1] with an empty name[0] becomes name[0]', () => {
    const parts = [part('name[1].family'), part('name[0].family')];
    expect(
      build(parts, [
        [DATA, 'Soto'],
        [DATA, undefined],
      ]),
    ).toEqual({
      resourceType: 'Patient',
      id: '1',
      name: [{ family: 'Soto' }],
    });
    // Items at fixed indexes come in index order, whatever the order of their sources.
    expect(
      build(parts, [
        [DATA, 'Soto'],
        [DATA, 'Rojas'],
      ])['name'],
    ).toEqual([{ family: 'Rojas' }, { family: 'Soto' }]);
  });

  it('appends built items after the fixed ones, and marks the way to them', () => {
    const parts = [part('telecom', 'items'), part('telecom[0].value')];
    expect(
      build(parts, [
        [DATA, [{ value: 'b' }, { value: 'c' }]],
        [DATA, 'a'],
      ])['telecom'],
    ).toEqual([{ value: 'a' }, { value: 'b' }, { value: 'c' }]);
    expect(
      build(parts, [
        [DATA, []],
        [DATA, undefined],
      ]),
    ).toEqual(NOTHING);
    // Child rows under a fixed item: no rows, no data, so the item's constants go too.
    const nested = [part('contact[0].gender'), part('contact[0].telecom', 'items')];
    expect(
      build(nested, [
        [CONSTANT, 'male'],
        [DATA, []],
      ]),
    ).toEqual(NOTHING);
    expect(
      build(nested, [
        [CONSTANT, 'male'],
        [DATA, [{ value: 'x' }]],
      ])['contact'],
    ).toEqual([{ gender: 'male', telecom: [{ value: 'x' }] }]);
  });

  it('writes a split list whole at its element', () => {
    const parts = [part('name[0].given', 'list')];
    expect(build(parts, [[DATA, ['Ana', 'María']]])['name']).toEqual([{ given: ['Ana', 'María'] }]);
  });

  it('merges a built object into the object at its path, cleaned, at its source position', () => {
    const parts = [part('name[0].use'), part('name[0]', 'merge'), part('name[0].period.start')];
    const out = build(parts, [
      [CONSTANT, 'official'],
      [DATA, { family: 'Rojas', given: ['Ana', undefined], text: undefined, prefix: [] }],
      [DATA, '2020-01-01'],
    ]);
    expect(JSON.stringify(out['name'])).toBe(
      '[{"use":"official","family":"Rojas","given":["Ana"],"period":{"start":"2020-01-01"}}]',
    );
    // A merge that gave nothing marks its object: the constant alone does not survive.
    expect(
      build(parts, [
        [CONSTANT, 'official'],
        [DATA, undefined],
        [DATA, undefined],
      ]),
    ).toEqual(NOTHING);
  });

  it("treats a when with no branch as data expected on the way, not on a merge's own object", () => {
    const value = [part('identifier[0].system'), part('identifier[0].value')];
    expect(
      build(value, [
        [CONSTANT, 'urn:x'],
        [MARKER, undefined],
      ]),
    ).toEqual(NOTHING);
    // A marker on the reference marks contact[0], so its constant alone does not survive...
    const merge = [part('contact[0].organization.type'), part('contact[0].organization', 'merge')];
    expect(
      build(merge, [
        [CONSTANT, 'Organization'],
        [MARKER, undefined],
      ]),
    ).toEqual(NOTHING);
    // ...but not the reference's own object: a top-level one keeps its constant type.
    const own = [part('managingOrganization.type'), part('managingOrganization', 'merge')];
    expect(
      build(own, [
        [CONSTANT, 'Organization'],
        [MARKER, undefined],
      ]),
    ).toEqual({
      resourceType: 'Patient',
      id: '1',
      managingOrganization: { type: 'Organization' },
    });
  });

  it('writes only the selected top-level elements', () => {
    const parts = [part('gender'), part('name[0].family'), part('birthDate')];
    const written: [number, unknown][] = [
      [DATA, 'female'],
      [DATA, 'Rojas'],
      [DATA, '1980-01-02'],
    ];
    expect(build(parts, written, new Set(['name', 'birthDate']))).toEqual({
      resourceType: 'Patient',
      id: '1',
      name: [{ family: 'Rojas' }],
      birthDate: '1980-01-02',
    });
  });

  it('builds an item only when data was written into it', () => {
    const layout = createLayout([
      part('system', 'value', 'ContactPoint'),
      part('value', 'value', 'ContactPoint'),
    ]);
    const item = (system: unknown, value: unknown) => {
      const frame = layout.frame();
      frame.set(0, CONSTANT, system);
      frame.set(1, DATA, value);
      return layout.item(frame);
    };
    expect(item('phone', '+56 9')).toEqual({ system: 'phone', value: '+56 9' });
    expect(item('phone', undefined)).toBeUndefined();
  });

  it('starts every build from untouched slots, and gives a nested build a frame of its own', () => {
    const layout = createLayout([part('gender'), part('birthDate')]);
    const first = layout.frame();
    first.set(0, DATA, 'female');
    first.set(1, DATA, '1980-01-02');
    const nested = layout.frame();
    expect(nested).not.toBe(first);
    nested.set(0, DATA, 'male');
    expect(layout.resource(nested, 'Patient', '2')).toEqual({
      resourceType: 'Patient',
      id: '2',
      gender: 'male',
    });
    expect(layout.resource(first, 'Patient', '1')).toEqual({
      resourceType: 'Patient',
      id: '1',
      gender: 'female',
      birthDate: '1980-01-02',
    });
    const again = layout.frame();
    expect(again).toBe(first);
    expect(layout.resource(again, 'Patient', '3')).toEqual({ resourceType: 'Patient', id: '3' });
  });
});
