import pkg from '../../package.json';

export const ENGINE_VERSION: string = pkg.version;
export const RESULT_FORMAT = 'reward-lab.result/1';
