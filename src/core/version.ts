// A named import lets the bundler ship only the version, not all of package.json.
import { version } from '../../package.json';

export const ENGINE_VERSION: string = version;
export const RESULT_FORMAT = 'reward-lab.result/1';
