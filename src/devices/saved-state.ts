// A device's saved state comes back from a snapshot file (Snapshotable.restoreState), so it is
// checked before the device takes it: every field the device needs must be there with its
// type, and a state that does not fit is refused with the device's name, never half applied.
interface FieldTypes { number: number; 'number|null': number | null; boolean: boolean; array: unknown[] }
type Shape = Record<string, keyof FieldTypes>;
/** The typed state a shape describes. */
export type SavedFields<S extends Shape> = { [F in keyof S]: FieldTypes[S[F]] };

function fits(v: unknown, type: keyof FieldTypes): boolean {
  if (type === 'array') return Array.isArray(v);
  if (type === 'number|null') return v === null || typeof v === 'number';
  return typeof v === type;
}

/** `state` with the fields `shape` names, typed; throws "<device>: bad saved state (field)" otherwise. */
export function checkSavedState<S extends Shape>(device: string, state: unknown, shape: S): SavedFields<S> {
  const s = state as Record<string, unknown> | null;
  if (!s || typeof s !== 'object') throw new Error(`${device}: bad saved state`);
  for (const [field, type] of Object.entries(shape)) {
    const v = s[field];
    if (!fits(v, type)) throw new Error(`${device}: bad saved state (${field})`);
  }
  return s as SavedFields<S>;
}

/**
 * The plain (number, nullable number and boolean) fields `shape` names, read off `device`: the saved state of a
 * device whose registers are fields of the same names. One table then drives saveState and
 * restoreState (`restoreFields`), so a field cannot be saved but forgotten on restore.
 */
export function saveFields(device: object, shape: Shape): Record<string, unknown> {
  const d = device as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [field, type] of Object.entries(shape)) if (type !== 'array') out[field] = d[field];
  return out;
}

/** `checkSavedState`, then its number and boolean fields put back on `device` (arrays are the device's to convert). */
export function restoreFields<S extends Shape>(device: object, name: string, state: unknown, shape: S): SavedFields<S> {
  const s = checkSavedState(name, state, shape);
  const d = device as Record<string, unknown>;
  for (const [field, type] of Object.entries(shape)) if (type !== 'array') d[field] = (s as Record<string, unknown>)[field];
  return s;
}
