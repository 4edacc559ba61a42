// A device's saved state comes back from a snapshot file (Snapshotable.restoreState), so it is
// checked before the device takes it: every field the device needs must be there with its
// type, and a state that does not fit is refused with the device's name, never half applied.
interface FieldTypes { number: number; boolean: boolean; array: unknown[] }
type Shape = Record<string, keyof FieldTypes>;

/** `state` with the fields `shape` names, typed; throws "<device>: bad saved state (field)" otherwise. */
export function checkSavedState<S extends Shape>(device: string, state: unknown, shape: S): { [F in keyof S]: FieldTypes[S[F]] } {
  const s = state as Record<string, unknown> | null;
  if (!s || typeof s !== 'object') throw new Error(`${device}: bad saved state`);
  for (const [field, type] of Object.entries(shape)) {
    const v = s[field];
    if (type === 'array' ? !Array.isArray(v) : typeof v !== type) throw new Error(`${device}: bad saved state (${field})`);
  }
  return s as { [F in keyof S]: FieldTypes[S[F]] };
}
