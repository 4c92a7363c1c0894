/** The DOM id of the control for a spec path, so issue lists can move focus to the field. */
export const fieldId = (path: string): string => `field-${path.replace(/\./g, '-')}`;
