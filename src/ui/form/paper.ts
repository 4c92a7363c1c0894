import { defaultSpec } from '../../core/spec.ts';

/** The paper's settings (the schema's defaults), against which the form marks deviations. */
export const PAPER = defaultSpec();
